// Algorithm source over git smart HTTP with the real git client: clone with the API key as the
// password, edit, push; the push builds and shows the build log; the new build is callable and
// publishable. Invalid trees are refused through git's error channel, keys without management
// rights get 403, and a source PUT through the JSON route shows up as a commit.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { startTestApp, type TestApp } from '../support/app';
import { AlgorithmAuthor } from '../support/execution-helpers';

const run = promisify(execFile);
let t: TestApp;
let key: string;
let home: string;
let author: AlgorithmAuthor;

interface GitOut {
  code: number;
  stdout: string;
  stderr: string;
}

async function gitIn(cwd: string, ...args: string[]): Promise<GitOut> {
  const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: home, GIT_TERMINAL_PROMPT: '0', GIT_CONFIG_NOSYSTEM: '1' };
  try {
    const r = await run('git', args, { cwd, env, maxBuffer: 16 * 1024 * 1024 });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

const remote = (k: string, owner = 'alice', name = 'Hello') => `${t.url.replace('http://', `http://${owner}:${k}@`)}/git/${owner}/${name}.git`;

async function clone(k: string, dir: string, owner = 'alice', name = 'Hello'): Promise<GitOut> {
  return gitIn(home, 'clone', remote(k, owner, name), dir);
}

async function commitAll(dir: string, message: string): Promise<void> {
  assert.equal((await gitIn(dir, 'add', '-A')).code, 0);
  const c = await gitIn(dir, 'commit', '-q', '-m', message);
  assert.equal(c.code, 0, c.stderr);
}

const auth = () => ({ Authorization: `Simple ${key}` });

before(async () => {
  t = await startTestApp();
  key = await t.createUser('alice');
  author = new AlgorithmAuthor(t, 'alice', key);
  await author.create('Hello', 'python3');
  home = await mkdtemp(path.join(os.tmpdir(), 'beacon-git-test-'));
  await writeFile(path.join(home, '.gitconfig'), '[user]\n\tname = Alice\n\temail = alice@example.com\n[init]\n\tdefaultBranch = master\n');
});

after(async () => {
  await t?.close();
  if (home) await rm(home, { recursive: true, force: true });
});

describe('git clone, edit, push', () => {
  test('clone gives the current source; a push builds, shows the log, and the build is callable and publishable', async () => {
    const dir = path.join(home, 'hello');
    const c = await clone(key, dir);
    assert.equal(c.code, 0, c.stderr);
    assert.match(await readFile(path.join(dir, 'src/Hello.py'), 'utf8'), /"hello \{\}"\.format\(input\)/);

    await writeFile(path.join(dir, 'src/Hello.py'), 'def apply(input):\n    return "pushed " + str(input)\n');
    await commitAll(dir, 'say pushed');
    const push = await gitIn(dir, 'push', 'origin', 'master');
    assert.equal(push.code, 0, push.stderr);
    assert.match(push.stderr, /remote: Building algorithm \(python3\)/);
    assert.match(push.stderr, /remote: Success!/);
    const hash = /git_hash ([0-9a-f]{40})/.exec(push.stderr)?.[1];
    assert.ok(hash, push.stderr);
    assert.equal(hash, (await gitIn(dir, 'rev-parse', 'HEAD')).stdout.trim(), 'the build is named by the pushed commit');

    const byHash = await t.request.post(`/v1/algo/alice/Hello/${hash}`).set(auth()).type('text/plain').send('git');
    assert.equal(byHash.body.result, 'pushed git', JSON.stringify(byHash.body));
    const version = await author.publish('Hello');
    const byVersion = await t.request.post(`/v1/algo/alice/Hello/${version}`).set(auth()).type('text/plain').send('v');
    assert.equal(byVersion.body.result, 'pushed v');
    const src = await t.request.get('/v1/algorithms/alice/Hello/source').set(auth());
    assert.equal(src.body.files['src/Hello.py'], 'def apply(input):\n    return "pushed " + str(input)\n');
  });

  test('a push whose build fails is stored, and the push reports the failure', async () => {
    const dir = path.join(home, 'broken');
    assert.equal((await clone(key, dir)).code, 0);
    await writeFile(path.join(dir, 'src/Hello.py'), 'def apply(input):\n    return (\n');
    await commitAll(dir, 'broken');
    const push = await gitIn(dir, 'push', 'origin', 'master');
    assert.equal(push.code, 0, 'a failed build rejects nothing');
    assert.match(push.stderr, /remote: Build FAILED/);
    assert.match(push.stderr, /SyntaxError|was never closed/);
    const head = (await gitIn(dir, 'rev-parse', 'HEAD')).stdout.trim();
    const remoteHead = (await gitIn(dir, 'ls-remote', 'origin', 'refs/heads/master')).stdout.split('\t')[0];
    assert.equal(remoteHead, head);
    const src = await t.request.get('/v1/algorithms/alice/Hello/source').set(auth());
    assert.equal(src.body.files['src/Hello.py'], 'def apply(input):\n    return (\n');
    // Repair it for the tests below.
    await writeFile(path.join(dir, 'src/Hello.py'), 'def apply(input):\n    return "fixed"\n');
    await commitAll(dir, 'fixed');
    assert.equal((await gitIn(dir, 'push', 'origin', 'master')).code, 0);
  });

  test('a PUT through the JSON route appears as a commit on the next fetch', async () => {
    const dir = path.join(home, 'follow');
    assert.equal((await clone(key, dir)).code, 0);
    const files = { 'src/__init__.py': '', 'src/Hello.py': 'def apply(input):\n    return "from json"\n' };
    assert.equal((await t.request.put('/v1/algorithms/alice/Hello/source').set(auth()).send({ files })).status, 200);
    const pull = await gitIn(dir, 'pull', '-q', 'origin', 'master');
    assert.equal(pull.code, 0, pull.stderr);
    assert.equal(await readFile(path.join(dir, 'src/Hello.py'), 'utf8'), files['src/Hello.py']);
    assert.match((await gitIn(dir, 'log', '-1', '--format=%s')).stdout, /Source updated through the Beacon API/);
  });
});

describe('refused pushes', () => {
  let dir: string;
  let base: string;
  before(async () => {
    dir = path.join(home, 'refused');
    assert.equal((await clone(key, dir)).code, 0);
    base = (await gitIn(dir, 'rev-parse', 'HEAD')).stdout.trim();
  });

  async function refused(expected: RegExp): Promise<void> {
    const push = await gitIn(dir, 'push', 'origin', 'master');
    assert.notEqual(push.code, 0, 'the push must fail');
    assert.match(push.stderr, expected);
    assert.match(push.stderr, /\[remote rejected\]/);
    const remoteHead = (await gitIn(dir, 'ls-remote', 'origin', 'refs/heads/master')).stdout.split('\t')[0];
    assert.equal(remoteHead, base, 'the default branch did not move');
    assert.equal((await gitIn(dir, 'reset', '-q', '--hard', base)).code, 0);
  }

  test('a binary file', async () => {
    await writeFile(path.join(dir, 'src/model.bin'), Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 1, 2, 0xff]));
    await commitAll(dir, 'binary');
    await refused(/remote: .*"src\/model\.bin" is binary/);
  });

  test('an oversize file', async () => {
    await writeFile(path.join(dir, 'src/big.py'), `# ${'x'.repeat(1024 * 1024 + 10)}\n`);
    await commitAll(dir, 'big');
    await refused(/remote: .*"src\/big\.py" is \d+ bytes; a file may have at most 1048576/);
  });

  test('a symbolic link out of the tree', async () => {
    await symlink('/etc/passwd', path.join(dir, 'src/passwd'));
    await commitAll(dir, 'symlink');
    await refused(/remote: .*"src\/passwd" is a symbolic link/);
  });

  test("a tree with a '..' entry (path traversal)", async () => {
    // git itself will not build such a tree from a work tree: write it with the plumbing.
    const script = [
      'set -e',
      'blob=$(echo evil | git hash-object -w --stdin)',
      'inner=$(printf "100644 blob %s\\tpasswd\\n" "$blob" | git mktree)',
      'tree=$( { git ls-tree HEAD^{tree}; printf "040000 tree %s\\t..\\n" "$inner"; } | git mktree --missing)',
      'commit=$(git commit-tree "$tree" -p HEAD -m traversal)',
      'git reset -q --soft "$commit"',
    ].join('\n');
    const made = await run('sh', ['-c', script], { cwd: dir, env: { PATH: process.env.PATH, HOME: home } });
    assert.equal(made.stderr, '');
    await refused(/remote: .*(hasDotdot|'\.\.')/);
  });

  test('a branch other than master, and deleting master', async () => {
    await writeFile(path.join(dir, 'src/other.py'), 'x = 1\n');
    await commitAll(dir, 'other');
    const other = await gitIn(dir, 'push', 'origin', 'HEAD:refs/heads/feature');
    assert.notEqual(other.code, 0);
    assert.match(other.stderr, /only the default branch \(master\)/);
    const del = await gitIn(dir, 'push', 'origin', ':master');
    assert.notEqual(del.code, 0);
    await gitIn(dir, 'reset', '-q', '--hard', base);
  });
});

describe('who may use git', () => {
  test('no credentials: 401 with a basic challenge', async () => {
    const res = await t.request.get('/git/alice/Hello.git/info/refs?service=git-upload-pack');
    assert.equal(res.status, 401);
    assert.match(String(res.headers['www-authenticate']), /^Basic realm="Beacon"/);
  });

  test('a key without management rights: 403, for clone and for push', async () => {
    const callOnly = await t.request.post('/v1/admin/users/alice/keys').set('Authorization', 'Simple simTestAdminKey0000000000000000')
      .send({ permissions: { allow_algo_management: false } });
    assert.equal(callOnly.status, 201, JSON.stringify(callOnly.body));
    const k = callOnly.body.api_key as string;
    const basic = `Basic ${Buffer.from(`alice:${k}`).toString('base64')}`;
    for (const service of ['git-upload-pack', 'git-receive-pack']) {
      const res = await t.request.get(`/git/alice/Hello.git/info/refs?service=${service}`).set('Authorization', basic);
      assert.equal(res.status, 403, service);
      assert.match(res.body.error.message, /allow_algo_management/);
    }
    const push = await t.request.post('/git/alice/Hello.git/git-receive-pack').set('Authorization', basic).type('application/x-git-receive-pack-request').send(Buffer.from('0000'));
    assert.equal(push.status, 403);
    const c = await clone(k, path.join(home, 'denied'));
    assert.notEqual(c.code, 0);
    assert.match(c.stderr, /403/);
  });

  test("another user's key: 403; a wrong key: 401", async () => {
    const bob = await t.createUser('bob');
    const res = await t.request.get('/git/alice/Hello.git/info/refs?service=git-upload-pack').set('Authorization', `Basic ${Buffer.from(`bob:${bob}`).toString('base64')}`);
    assert.equal(res.status, 403);
    const wrong = await t.request.get('/git/alice/Hello.git/info/refs?service=git-upload-pack').set('Authorization', `Basic ${Buffer.from('alice:simNotAKey000000000000000000').toString('base64')}`);
    assert.equal(wrong.status, 401);
  });

  test('a forged hook callback is refused', async () => {
    const res = await t.request.post('/internal/git-hooks/not-a-push').send({ phase: 'post-receive', updates: '' });
    assert.equal(res.status, 403);
  });
});

describe('deleting the algorithm', () => {
  test('removes its repository', async () => {
    await author.create('Doomed', 'python3');
    assert.equal((await clone(key, path.join(home, 'doomed'), 'alice', 'Doomed')).code, 0);
    const id = (await t.request.get('/v1/algorithms/alice/Doomed').set(auth())).body.id as string;
    const repo = path.join(t.config.git.reposDir, `${id}.git`);
    assert.ok(existsSync(repo));
    assert.equal((await t.request.delete('/v1/algorithms/alice/Doomed').set(auth())).status, 204);
    assert.ok(!existsSync(repo));
  });
});

describe('a hostile git request cannot exhaust the service', () => {
  let small: TestApp;
  let k: string;
  before(async () => {
    small = await startTestApp({ GIT_MAX_REQUEST_BYTES: '65536', GIT_TIMEOUT_MS: '1500' });
    k = await small.createUser('mallory');
    await new AlgorithmAuthor(small, 'mallory', k).create('Big', 'python3');
  });
  after(async () => small?.close());

  const basic = () => `Basic ${Buffer.from(`mallory:${k}`).toString('base64')}`;

  function post(pathname: string, headers: Record<string, string>, write: (req: import('node:http').ClientRequest) => void) {
    return new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = (require('node:http') as typeof import('node:http')).request(`${small.url}${pathname}`, { method: 'POST', headers: { Authorization: basic(), ...headers } }, (res) => {
        let body = '';
        res.on('data', (c) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on('error', (e) => (String(e.message).includes('ECONNRESET') || String(e.message).includes('EPIPE') ? resolve({ status: -1, body: e.message }) : reject(e)));
      write(req);
    });
  }

  test('a declared body over GIT_MAX_REQUEST_BYTES is refused before it is read (413)', async () => {
    const res = await post('/git/mallory/Big.git/git-receive-pack', { 'Content-Type': 'application/x-git-receive-pack-request', 'Content-Length': String(10 * 1024 * 1024) }, (req) => req.write(Buffer.alloc(1024)));
    assert.equal(res.status, 413, res.body);
  });

  test('a chunked body that grows past the bound is cut off (413) and its CGI killed', async () => {
    const res = await post('/git/mallory/Big.git/git-receive-pack', { 'Content-Type': 'application/x-git-receive-pack-request' }, (req) => {
      const chunk = Buffer.alloc(16 * 1024, 0x41);
      for (let i = 0; i < 8; i++) req.write(chunk);
      req.end();
    });
    assert.ok(res.status === 413 || res.status === -1, `got ${res.status} ${res.body}`);
  });

  test('a request that stalls is ended at GIT_TIMEOUT_MS (408)', async () => {
    // Sends the start of a body and then nothing: without the timeout, the CGI would wait forever.
    // The 408 may be lost to the connection reset that follows a reply to an unread body; either way
    // the request ends (without the timeout this test would hang) and the service still answers.
    const res = await post('/git/mallory/Big.git/git-upload-pack', { 'Content-Type': 'application/x-git-upload-pack-request', 'Content-Length': '1000' }, (req) => req.write('0032want '));
    assert.ok(res.status === 408 || res.status === -1, `got ${res.status} ${res.body}`);
    const after = await small.request.get('/git/mallory/Big.git/info/refs?service=git-upload-pack').set('Authorization', basic());
    assert.equal(after.status, 200);
  });

  test('a real push larger than the bound fails with 413 and changes nothing', async () => {
    const dir = path.join(home, 'bigpush');
    const c = await gitIn(home, 'clone', `${small.url.replace('http://', `http://mallory:${k}@`)}/git/mallory/Big.git`, dir);
    assert.equal(c.code, 0, c.stderr);
    const before = (await gitIn(dir, 'rev-parse', 'HEAD')).stdout.trim();
    // Incompressible text: 200 KB of base64 of random bytes.
    await writeFile(path.join(dir, 'src/noise.py'), `# ${require('node:crypto').randomBytes(150_000).toString('base64')}\n`);
    await commitAll(dir, 'noise');
    const push = await gitIn(dir, 'push', 'origin', 'master');
    assert.notEqual(push.code, 0);
    assert.match(push.stderr, /413/);
    assert.equal((await gitIn(dir, 'ls-remote', 'origin', 'refs/heads/master')).stdout.split('\t')[0], before);
  });
});
