import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadConfig } from '../../src/config';
import { INSIDE, interpreterPaths, sandboxCommand } from '../../src/execution/sandbox-command';
import { outboundRules } from '../../src/execution/worker-sandbox';

const spec = {
  bwrap: '/usr/bin/bwrap', procsFiles: ['/sys/fs/cgroup/memory/b/w/cgroup.procs'], uid: 70001, hostWorkDir: '/srv/work/rses-1',
  runtimesDir: '/srv/beacon/runtimes', readOnlyPaths: [], limits: { diskMb: 64, tmpMb: 32, maxOpenFiles: 512 }, argv: ['/usr/bin/python3', 'runner.py'],
};

test('the sandbox unshares every namespace, binds only what the runtime needs, and sizes its tmpfs', () => {
  const { command, args } = sandboxCommand(spec);
  assert.equal(command, '/bin/sh');
  const bw = args.slice(args.indexOf('/usr/bin/bwrap'));
  for (const flag of ['--unshare-all', '--die-with-parent', '--new-session']) assert.ok(bw.includes(flag), flag);
  assert.ok(args.includes('--reuid=70001') && args.includes('--clear-groups'));
  assert.ok(args.includes(spec.procsFiles[0]), 'joins the cgroup first');
  const binds = bw.flatMap((a, i) => (a === '--bind' || a === '--ro-bind' ? [`${bw[i + 1]} -> ${bw[i + 2]}`] : []));
  assert.ok(!bw.includes('--bind'), 'no writable bind of a host folder');
  assert.deepEqual(binds.filter((b) => !b.startsWith('/usr ')), [`${spec.hostWorkDir} -> ${INSIDE.source}`, `${spec.runtimesDir} -> ${INSIDE.runtimes}`]);
  const size = (mount: string) => (bw[bw.indexOf(mount) - 1] === '--tmpfs' ? Number(bw[bw.indexOf(mount) - 2]) : NaN);
  assert.equal(size('/work'), 64 * 1024 * 1024);
  assert.equal(size('/dev/shm'), 32 * 1024 * 1024);
  const link = bw.indexOf('--symlink', bw.indexOf('/dev/shm'));
  assert.deepEqual(bw.slice(link, link + 3), ['--symlink', '/dev/shm', '/tmp'], '/tmp is the same tmpfs (one fstat between calls)');
  assert.ok(bw.includes('--proc') && !bw.includes('/sys'));
});

test('"full" refuses the host, loopback and private ranges after allowing lo and slirp DNS', () => {
  const rules = outboundRules(['192.0.2.2']).split('\n');
  const first = rules.findIndex((l) => l.includes('REJECT'));
  assert.ok(rules.indexOf('-A OUTPUT -o lo -j ACCEPT') < first);
  for (const range of ['192.0.2.2/32', '127.0.0.0/8', '10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '169.254.0.0/16']) {
    assert.ok(rules.some((l) => l.startsWith(`-A OUTPUT -d ${range} `) && l.endsWith('-j REJECT')), range);
  }
});

test('an interpreter outside /usr is bound with its install prefix only', () => {
  assert.deepEqual(interpreterPaths(['/usr/bin/python3']), []);
});

test('WORKER_SANDBOX accepts on or off only, and names itself when wrong', () => {
  assert.equal(loadConfig({}).workers.sandbox, 'on');
  assert.equal(loadConfig({ WORKER_SANDBOX: 'off' }).workers.sandbox, 'off');
  assert.throws(() => loadConfig({ WORKER_SANDBOX: 'maybe' }), /WORKER_SANDBOX/);
});
