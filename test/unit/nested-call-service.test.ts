// NestedCallService with a fake execution service: limits come before any lookup, the callee is
// resolved with the original caller's principal, the time left bounds the nested timeout, and a
// finished nested call is recorded on the parent for its metadata.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { CallContext } from '../../src/execution/call-context';
import type { ExecutionTarget, RunOutcome } from '../../src/execution/execution-service';
import { NestedCallService } from '../../src/execution/nested-call-service';
import type { Principal } from '../../src/platform/auth';
import type { ApiError } from '../../src/platform/errors';

const CALLER: Principal = { userId: 'u1', username: 'carol', keyType: 'AlgorithmKey', allowAlgo: true, allowAlgoManagement: false, algoAcl: ['algo://*'] };
const TARGET: ExecutionTarget = {
  algorithmId: 'a1', owner: 'ana', name: 'Next', language: 'python3', isOwner: false,
  networkAccess: 'isolated', pipelineEnabled: true,
  version: { buildId: 'b1', commitSha: 'c'.repeat(40), semanticVersion: '1.0.0', insightsEnabled: false } as ExecutionTarget['version'],
};

function parent(over: Partial<CallContext> = {}): CallContext {
  return { token: 't', sessionId: 's', metrics: {}, requestId: 'req-parent', caller: CALLER, depth: 0, chain: ['ana/First'], deadline: Date.now() + 60_000, pipelineEnabled: true, started: 0, nested: [], ...over };
}

function fake() {
  const resolved: Principal[] = [];
  const runs: Array<{ parent?: CallContext; timeoutMs: number }> = [];
  const execution = {
    resolve: async (p: Principal) => {
      resolved.push(p);
      return TARGET;
    },
    run: async (_t: ExecutionTarget, _i: unknown, o: { timeoutMs: number; parent?: CallContext }): Promise<RunOutcome> => {
      runs.push(o);
      return { kind: 'result', contentType: 'text', result: 'x', stdout: '', durationMs: 1500, sessionId: 's', metrics: {}, nested: [] };
    },
    runInBackground: () => {},
  };
  return { execution, resolved, runs };
}

test('the depth limit refuses before any lookup and names the chain', async () => {
  const f = fake();
  const svc = new NestedCallService(f.execution as never, { maxDepth: 2, maxFanout: 10 });
  await assert.rejects(svc.prepare(parent({ depth: 2, chain: ['ana/A', 'ana/A', 'ana/A'] }), { owner: 'ana', name: 'A' }, 1000), (e: ApiError) => {
    assert.equal(e.status, 400);
    assert.match(e.message, /depth limit \(2\) reached: ana\/A -> ana\/A -> ana\/A -> ana\/A$/);
    return true;
  });
  assert.equal(f.resolved.length, 0);
});

test('the fan-out limit counts the calls of one parent', async () => {
  const f = fake();
  const svc = new NestedCallService(f.execution as never, { maxDepth: 5, maxFanout: 2 });
  const p = parent();
  await svc.prepare(p, { owner: 'ana', name: 'Next' }, 1000);
  await svc.prepare(p, { owner: 'ana', name: 'Next' }, 1000);
  await assert.rejects(svc.prepare(p, { owner: 'ana', name: 'Next' }, 1000), (e: ApiError) => e.status === 429);
});

test("the callee is resolved for the original caller, within the parent's remaining time", async () => {
  const f = fake();
  const svc = new NestedCallService(f.execution as never, { maxDepth: 5, maxFanout: 10 });
  const p = parent({ deadline: Date.now() + 5_000 });
  const { timeoutMs } = await svc.prepare(p, { owner: 'ana', name: 'Next' }, 300_000);
  assert.deepEqual(f.resolved, [CALLER]);
  assert.ok(timeoutMs <= 5_000 && timeoutMs > 0);
  await assert.rejects(svc.prepare(parent({ deadline: Date.now() - 1 }), { owner: 'ana', name: 'Next' }, 1000), /time is up/);
});

test('a finished nested call is recorded on its parent and runs with the parent as context', async () => {
  const f = fake();
  const svc = new NestedCallService(f.execution as never, { maxDepth: 5, maxFanout: 10 });
  const p = parent();
  await svc.run(p, TARGET, { contentType: 'text', data: Buffer.from('x') }, 1000, 'req-child');
  assert.equal(f.runs[0].parent, p);
  assert.deepEqual(p.nested, [{ request_id: 'req-child', algorithm: 'ana/Next/1.0.0', duration: 1.5 }]);
});

test('an algorithm whose settings.pipeline_enabled is false may not call others', async () => {
  const f = fake();
  const svc = new NestedCallService(f.execution as never, { maxDepth: 5, maxFanout: 10 });
  await assert.rejects(svc.prepare(parent({ pipelineEnabled: false }), { owner: 'ana', name: 'Next' }, 1000), (e: ApiError) => {
    assert.equal(e.status, 403);
    assert.match(e.message, /ana\/First may not call other algorithms \(its settings\.pipeline_enabled is false\)/);
    return true;
  });
  assert.equal(f.resolved.length, 0);
});

test('a call without a caller (one Beacon made itself) may not call others', async () => {
  const f = fake();
  const svc = new NestedCallService(f.execution as never, { maxDepth: 5, maxFanout: 10 });
  await assert.rejects(svc.prepare(parent({ caller: undefined }), { owner: 'ana', name: 'Next' }, 1000), (e: ApiError) => e.status === 403);
  assert.equal(f.resolved.length, 0);
});
