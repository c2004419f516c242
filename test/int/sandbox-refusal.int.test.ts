// A host where the sandbox cannot be built refuses to run algorithms, naming what is missing; only
// an explicit WORKER_SANDBOX=off runs them unsandboxed, and says so at warn on every start.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { startTestApp } from '../support/app';
import { callAlgo, deployWith, HEALTHY_PY } from '../support/sandbox-helpers';

test('no usable cgroup hierarchy: every call is refused with a message naming it, the API keeps working', async () => {
  const logLines: string[] = [];
  const t = await startTestApp({ WORKER_CGROUP_ROOT: mkdtempSync(join(tmpdir(), 'no-cgroups-')), LOG_LEVEL: 'warn' }, { logLines });
  try {
    const key = await t.createUser('ana');
    await deployWith(t, 'ana', key, 'Healthy', 'python3', HEALTHY_PY);
    const r = await callAlgo(t, key, 'ana/Healthy', 'x');
    assert.equal(r.error?.error_type, 'SystemError', JSON.stringify(r));
    assert.match(r.error!.message, /worker sandbox cannot be built on this host; missing: the cgroup v1 memory controller/);
    assert.match(r.error!.message, /WORKER_SANDBOX=off/);
    assert.ok(logLines.some((l) => /algorithm execution is disabled/.test(l)), logLines.join('\n'));
  } finally {
    await t.close();
  }
});

test('WORKER_SANDBOX=off runs algorithms and warns that it is unsafe', async () => {
  const logLines: string[] = [];
  const t = await startTestApp({ WORKER_SANDBOX: 'off', LOG_LEVEL: 'warn' }, { logLines });
  try {
    const key = await t.createUser('ana');
    await deployWith(t, 'ana', key, 'Healthy', 'python3', HEALTHY_PY);
    assert.equal((await callAlgo(t, key, 'ana/Healthy', 'x')).result, 'healthy x');
    assert.ok(logLines.some((l) => /"level":"?(40|warn)"?/.test(l) && /WORKER_SANDBOX=off.*unsafe/.test(l)), logLines.join('\n'));
  } finally {
    await t.close();
  }
});
