// ExecutionService with fakes: the Insights hand-off (only for enabled versions, awaited before
// returning, a refusing sink does not fail the call) and the resolution cache.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { InsightsRecord } from '../../src/insights/insights-sink';
import type { Principal } from '../../src/platform/auth';
import { ApiError } from '../../src/platform/errors';
import { ExecutionService, type ExecutionServiceDeps } from '../../src/execution/execution-service';
import type { AlgorithmSnapshot } from '../../src/execution/execution-store';
import type { CallOutcome } from '../../src/execution/worker-pool';
import type { VersionRef } from '../../src/algorithms/version-model';

const OWNER: Principal = { userId: 'u-owner', username: 'ana', keyType: 'AlgorithmKey', allowAlgo: true, allowAlgoManagement: true, algoAcl: ['algo://*'] };
const OTHER: Principal = { ...OWNER, userId: 'u-other', username: 'bob' };

const version = (v: string, insightsEnabled: boolean, callability: 'public' | 'private' = 'public'): VersionRef => {
  const [major, minor, revision] = v.split('.').map(Number);
  return { semver: { major, minor, revision }, callability, insightsEnabled, buildId: `b-${v}`, commitSha: 'a'.repeat(40) };
};

function harness(versions: VersionRef[], opts: { sinkFails?: boolean; outcome?: Partial<CallOutcome> } = {}) {
  const snapshot = (): AlgorithmSnapshot => ({ id: 'algo-1', ownerId: 'u-owner', owner: 'ana', name: 'Counter', language: 'python3', networkAccess: 'isolated', versions: [...versions] });
  const log: string[] = [];
  const records: InsightsRecord[] = [];
  const counted: string[] = [];
  let lost = 0;
  let snapshotQueries = 0;
  const deps: ExecutionServiceDeps = {
    store: {
      findAlgorithm: async () => {
        snapshotQueries++;
        return snapshot();
      },
      findAlgorithmById: async () => snapshot(),
      findBuildByHash: async () => undefined,
      findBuildFiles: async () => ({ language: 'python3', files: { 'src/Counter.py': '' } }),
    },
    pool: {
      call: async (spec, req) => {
        log.push(`call ${spec.key} ${req.requestId}`);
        return {
          kind: 'result',
          contentType: 'json',
          result: req.data,
          stdout: '',
          durationMs: 12,
          sessionId: 'rses-1',
          metrics: { cats: 3 },
          ...opts.outcome,
        } as CallOutcome;
      },
    },
    sink: {
      accept: async (r) => {
        await new Promise((resolve) => setTimeout(resolve, 5));
        if (opts.sinkFails) throw new Error('database down');
        records.push(r);
        log.push(`durable ${r.requestId}`);
      },
    },
    logger: { warn: () => undefined, error: () => undefined } as unknown as ExecutionServiceDeps['logger'],
    counters: {
      executions: { inc: (l) => counted.push(`${l.algorithm} ${l.outcome}`) },
      insightsLost: { inc: () => lost++ },
    },
  };
  const service = new ExecutionService(deps);
  return { service, log, records, counted, lost: () => lost, snapshotQueries: () => snapshotQueries, versions };
}

const input = { contentType: 'json' as const, data: Buffer.from('{"n":1}') };

describe('ExecutionService insights hand-off', () => {
  test('an enabled version hands one record to the sink before run() returns', async () => {
    const h = harness([version('0.1.0', true)]);
    const target = await h.service.resolve(OWNER, { owner: 'ana', name: 'Counter' });
    await h.service.run(target, input, { timeoutMs: 1000, requestId: 'req-1', caller: OWNER });
    h.log.push('returned');
    assert.deepEqual(h.log, ['call b-0.1.0:isolated req-1', 'durable req-1', 'returned']);
    assert.equal(h.records.length, 1);
    const r = h.records[0];
    assert.equal(r.requestId, 'req-1');
    assert.equal(r.sessionId, 'rses-1');
    assert.equal(r.owner, 'ana');
    assert.equal(r.name, 'Counter');
    assert.equal(r.version, '0.1.0');
    assert.equal(r.durationMs, 12);
    assert.deepEqual(r.metrics, { cats: 3 });
    assert.ok(r.time instanceof Date);
    assert.deepEqual(h.counted, ['ana/Counter success']);
  });

  test('algorithm errors and timeouts are recorded too, and counted by outcome', async () => {
    const err = harness([version('0.1.0', true)], { outcome: { kind: 'error', error: { message: 'x', error_type: 'AlgorithmError' } } as Partial<CallOutcome> });
    const target = await err.service.resolve(OWNER, { owner: 'ana', name: 'Counter' });
    await err.service.run(target, input, { timeoutMs: 1000, requestId: 'req-e', caller: OWNER });
    assert.equal(err.records.length, 1);
    const to = harness([version('0.1.0', true)], { outcome: { kind: 'error', error: { message: 'x', error_type: 'TimeoutError' } } as Partial<CallOutcome> });
    await to.service.run(await to.service.resolve(OWNER, { owner: 'ana', name: 'Counter' }), input, { timeoutMs: 1000, requestId: 'req-t', caller: OWNER });
    assert.equal(to.records.length, 1);
    assert.deepEqual([...err.counted, ...to.counted], ['ana/Counter error', 'ana/Counter timeout']);
  });

  test('a version without Insights produces nothing', async () => {
    const h = harness([version('0.1.0', false)]);
    await h.service.run(await h.service.resolve(OWNER, { owner: 'ana', name: 'Counter' }), input, { timeoutMs: 1000, requestId: 'req-2', caller: OWNER });
    assert.equal(h.records.length, 0);
    assert.deepEqual(h.log, ['call b-0.1.0:isolated req-2']);
  });

  test('a sink that refuses does not fail the call; the loss is counted', async () => {
    const h = harness([version('0.1.0', true)], { sinkFails: true });
    const outcome = await h.service.run(await h.service.resolve(OWNER, { owner: 'ana', name: 'Counter' }), input, { timeoutMs: 1000, requestId: 'req-3', caller: OWNER });
    assert.equal(outcome.kind, 'result');
    assert.equal(h.lost(), 1);
  });

  test('output=void runs finish in the background and drain() waits for them', async () => {
    const h = harness([version('0.1.0', true)]);
    h.service.runInBackground(await h.service.resolve(OWNER, { owner: 'ana', name: 'Counter' }), input, { timeoutMs: 1000, requestId: 'req-4', caller: OWNER });
    assert.equal(h.records.length, 0);
    await h.service.drain();
    assert.equal(h.records.length, 1);
  });
});

describe('ExecutionService resolution', () => {
  test('snapshots are cached; a refusal is re-checked against the store (a new publish is seen at once)', async () => {
    const h = harness([version('0.1.0', false)]);
    await h.service.resolve(OWNER, { owner: 'ana', name: 'Counter' });
    await h.service.resolve(OWNER, { owner: 'ANA', name: 'counter' });
    assert.equal(h.snapshotQueries(), 1);
    h.versions.push(version('0.2.0', false));
    const t = await h.service.resolve(OWNER, { owner: 'ana', name: 'Counter', version: '0.2.0' });
    assert.equal(t.version.semanticVersion, '0.2.0');
    assert.equal(h.snapshotQueries(), 2);
  });

  test('refusals carry the documented statuses', async () => {
    const h = harness([version('0.1.0', false), version('0.2.0', false, 'private')]);
    const status = async (p: Principal, v?: string) => {
      try {
        await h.service.resolve(p, { owner: 'ana', name: 'Counter', version: v });
        return 200;
      } catch (err) {
        assert.ok(err instanceof ApiError);
        return err.status;
      }
    };
    assert.equal(await status(OTHER, '0.2.0'), 403);
    assert.equal(await status(OWNER, '0.2.0'), 200);
    assert.equal(await status(OTHER, '9.9.9'), 404);
    assert.equal(await status(OTHER, 'not-a-version'), 400);
    assert.equal(await status({ ...OTHER, algoAcl: ['algo://someone/*'] }), 403);
    assert.equal(await status({ ...OTHER, algoAcl: ['algo://ana/Counter/*'] }), 200);
  });

  test('the algorithm-id form only queries well-formed UUIDs', async () => {
    const h = harness([version('0.1.0', false)]);
    await assert.rejects(h.service.resolve(OWNER, { algorithmId: 'not-a-uuid' }), (e: ApiError) => e.status === 404);
    const t = await h.service.resolve(OWNER, { algorithmId: '00000000-0000-4000-8000-000000000001' });
    assert.equal(t.name, 'Counter');
  });
});
