// The worker sandbox against hostile JavaScript and R algorithms: the attacks that differ by
// language (native memory outside V8's heap in child processes, sockets and files from each
// runtime's own API). Each fails with a clear error, and a healthy algorithm answers next.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startTestApp, type TestApp } from '../support/app';
import { assertError, callAlgo, deployWith, HEALTHY_PY, SANDBOX_ENV } from '../support/sandbox-helpers';

const JS = `const net = require('net');
const fs = require('fs');
const { spawn } = require('child_process');
function connect(port) {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port });
    s.setTimeout(3000, () => { s.destroy(); resolve('timeout'); });
    s.on('connect', () => { s.destroy(); resolve('connected'); });
    s.on('error', (e) => resolve(e.code));
  });
}
exports.apply = async function (input) {
  if (input.op === 'connect') return Promise.all(input.ports.map(connect));
  if (input.op === 'read') return input.paths.map((p) => { try { fs.readdirSync(p); return 'listed'; } catch (e) { return e.code; } });
  if (input.op === 'children_memory') {
    // Buffers live outside V8's heap, so --max-old-space-size never sees them.
    const code = 'const b = Buffer.alloc(' + input.mb + ' * 1024 * 1024, 1); setTimeout(() => {}, 60000)';
    const kids = [0, 1, 2, 3].map(() => spawn(process.execPath, ['-e', code], { stdio: 'ignore' }));
    await new Promise((r) => setTimeout(r, input.wait * 1000));
    return kids.map((k) => k.exitCode);
  }
  throw new Error('unknown op');
};
`;

const R = `apply <- function(input) {
  if (input$op == "connect") {
    return(vapply(input$ports, function(p) {
      r <- tryCatch({ con <- socketConnection("127.0.0.1", p, open = "r+b", timeout = 3); close(con); "connected" },
        error = function(e) "refused", warning = function(w) "refused")
      r
    }, ""))
  }
  if (input$op == "read") return(unname(vapply(input$paths, function(p) if (file.exists(p)) "exists" else "missing", "")))
  stop("unknown op")
}
`;

let t: TestApp;
let key: string;

async function healthy(): Promise<void> {
  const r = await callAlgo(t, key, 'eve/Healthy', 'after');
  assert.equal(r.result, 'healthy after', JSON.stringify(r));
}

before(async () => {
  t = await startTestApp(SANDBOX_ENV);
  key = await t.createUser('eve');
  await deployWith(t, 'eve', key, 'AttackJs', 'javascript', JS);
  await deployWith(t, 'eve', key, 'AttackR', 'r', R);
  await deployWith(t, 'eve', key, 'Healthy', 'python3', HEALTHY_PY);
});

after(async () => t?.close());

const beaconPort = () => Number(new URL(t.url).port);
const servicePaths = () => [process.cwd(), `${process.cwd()}/.cache`, t.config.workers.workRoot, `/proc/${process.pid}`, '/root'];

describe('JavaScript', () => {
  test('no TCP to the database or Beacon on 127.0.0.1', async () => {
    const r = await callAlgo(t, key, 'eve/AttackJs', { op: 'connect', ports: [5432, beaconPort()] });
    assert.deepEqual(r.result, ['ECONNREFUSED', 'ECONNREFUSED'], JSON.stringify(r));
    await healthy();
  });

  test('the service folder, .cache/, the worker folders and Beacon\'s /proc entry do not exist inside', async () => {
    const r = await callAlgo(t, key, 'eve/AttackJs', { op: 'read', paths: servicePaths() });
    assert.deepEqual(r.result, servicePaths().map(() => 'ENOENT'), JSON.stringify(r));
    await healthy();
  });

  test('native memory in 4 child processes past the limit: OutOfMemoryError', async () => {
    const r = await callAlgo(t, key, 'eve/AttackJs', { op: 'children_memory', mb: 150, wait: 15 });
    assertError(r, 'OutOfMemoryError', /ran out of memory/);
    await healthy();
  });
});

describe('R', () => {
  test('no TCP to the database or Beacon on 127.0.0.1', async () => {
    const r = await callAlgo(t, key, 'eve/AttackR', { op: 'connect', ports: [5432, beaconPort()] });
    assert.deepEqual(r.result, ['refused', 'refused'], JSON.stringify(r));
    await healthy();
  });

  test('the service folder, .cache/, the worker folders and Beacon\'s /proc entry do not exist inside', async () => {
    const r = await callAlgo(t, key, 'eve/AttackR', { op: 'read', paths: servicePaths() }, 60, true);
    assert.deepEqual(r.result, servicePaths().map(() => 'missing'), JSON.stringify(r));
    await healthy();
  });
});
