// Fault: an algorithm worker process is SIGKILLed. The call it was running must end with a clear
// error answer (not a hang, not a 5xx), and the next call must succeed on a fresh worker.
// One worker per version (WORKER_MAX_PER_VERSION=1), so the process to kill is unambiguous.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { startTestApp, type TestApp } from '../support/app';
import { ECHO_SOURCE, publishPythonAlgorithm, type PublishedAlgorithm } from '../support/fault-api';
import { callOnce, waitUntil } from '../support/fault-load';
import { pythonWorkerPids } from '../support/fault-process';
import { assertMatchesSpec } from '../support/openapi';

const OWNER = 'faultworker';
const NAME = 'killme';
const ROUNDS = 3;
const CALL_TIMEOUT_MS = 60_000;

describe('fault: worker process killed', () => {
  let app: TestApp;
  let key: string;
  let algo: PublishedAlgorithm;

  before(async () => {
    app = await startTestApp({ WORKER_MAX_PER_VERSION: '1' });
    key = await app.createUser(OWNER);
    algo = await publishPythonAlgorithm(app.url, key, OWNER, NAME, ECHO_SOURCE);
    const warm = await callOnce(app.url, algo.callPath, key, { warm: true }, CALL_TIMEOUT_MS);
    assert.equal(warm.kind, 'ok', JSON.stringify(warm));
  });

  after(async () => {
    await app?.close();
  });

  const gone = (pid: number) => !existsSync(`/proc/${pid}`);

  test('SIGKILL mid-call: that call gets a clear error answer, the next call succeeds on a new worker', async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const before = pythonWorkerPids(NAME);
      assert.equal(before.length, 1, `round ${round}: exactly one warm worker, found ${before.join(',')}`);
      const [pid] = before;

      const slow = callOnce(app.url, algo.callPath, key, { sleep: 20, round }, CALL_TIMEOUT_MS);
      // The pool marks the worker busy in the same tick it writes the call to the worker's stdin.
      assert.ok(await waitUntil(() => app.beacon.execution.pool.stats().busy === 1, 10_000), 'the slow call reached the worker');
      process.kill(pid, 'SIGKILL');

      const killed = await slow;
      assert.equal(killed.kind, 'algo_error', `round ${round}: ${JSON.stringify(killed)}`);
      assert.equal(killed.status, 200);
      assert.equal(killed.body.error.error_type, 'AlgorithmError');
      assert.match(killed.body.error.message, /SIGKILL|killed/);
      assert.match(killed.requestId ?? '', /^req-/);
      assertMatchesSpec('post', '/v1/algo/{owner}/{name}/{version}', { status: killed.status, body: killed.body });
      assert.ok(await waitUntil(() => gone(pid), 10_000), 'the killed worker is reaped');

      const next = await callOnce(app.url, algo.callPath, key, { after: round }, CALL_TIMEOUT_MS);
      assert.equal(next.kind, 'ok', `round ${round}: ${JSON.stringify(next)}`);
      assert.deepEqual(next.body.result, { after: round });
      const now = pythonWorkerPids(NAME);
      assert.equal(now.length, 1, 'one worker again');
      assert.notEqual(now[0], pid, 'a new worker serves the next call');
    }
  });

  test('SIGKILL of an idle warm worker: the next call succeeds', async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const [pid] = pythonWorkerPids(NAME);
      assert.ok(pid, `round ${round}: a warm worker exists`);
      assert.equal(app.beacon.execution.pool.stats().busy, 0);
      process.kill(pid, 'SIGKILL');
      assert.ok(await waitUntil(() => gone(pid), 10_000), 'the killed worker is reaped');
      // A sandboxed runner is the child of bwrap's init: the pool learns of the death when bwrap exits.
      assert.ok(await waitUntil(() => app.beacon.execution.pool.stats().idle === 0, 10_000), 'the pool drops the dead worker');

      const next = await callOnce(app.url, algo.callPath, key, { idle: round }, CALL_TIMEOUT_MS);
      assert.equal(next.kind, 'ok', `round ${round}: ${JSON.stringify(next)}`);
      assert.deepEqual(next.body.result, { idle: round });
    }
  });
});
