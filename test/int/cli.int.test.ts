// The `beacon` CLI, spawned as a user runs it (bin/beacon.js), against a real Beacon and PostgreSQL.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { runCli } from '../../src/cli/cli';
import { ADMIN_KEY, startTestApp, type TestApp } from '../support/app';
import { createTestDb } from '../support/db';
import { ensureKafka } from '../support/kafka';
import { AlgorithmAuthor } from '../support/execution-helpers';

const BIN = path.join(__dirname, '..', '..', 'bin', 'beacon.js');
let t: TestApp;
let aliceKey: string;

before(async () => {
  t = await startTestApp();
  aliceKey = await t.createUser('alice');
});
after(async () => t.close());

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Spawns the CLI with only the environment given (plus PATH), never the test runner's. */
function beacon(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve) => {
    const child = execFile(process.execPath, [BIN, ...args], { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', BEACON_URL: t.url, ...env }, timeout: 120_000 }, (err, stdout, stderr) =>
      resolve({ code: child.exitCode ?? (err ? 1 : 0), stdout, stderr }),
    );
  });
}
const asAdmin = (args: string[]) => beacon([...args, '--json'], { BEACON_API_KEY: ADMIN_KEY });
const asAlice = (args: string[], json = true) => beacon(json ? [...args, '--json'] : args, { BEACON_API_KEY: aliceKey });
const ok = (r: Run) => {
  assert.equal(r.code, 0, `exit ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  return r;
};
const json = (r: Run) => JSON.parse(ok(r).stdout);

describe('help and usage', () => {
  test('--help works for the program and every subcommand, from the spawned binary and in process', async () => {
    const top = ok(await beacon(['--help']));
    for (const c of ['migrate', 'admin', 'secret', 'users', 'keys', 'insights', 'algo']) assert.match(top.stdout, new RegExp(`\\b${c}\\b`));
    const leaves = [
      ['migrate'], ['admin', 'create-key'], ['secret', 'generate'], ['users', 'create'], ['users', 'list'], ['users', 'delete'],
      ['keys', 'create'], ['keys', 'list'], ['keys', 'revoke'], ['keys', 'rotate'], ['insights', 'status'], ['insights', 'test'],
      ['insights', 'tail'], ['algo', 'create'], ['algo', 'push'], ['algo', 'compile'], ['algo', 'publish'], ['algo', 'call'], ['algo', 'versions'],
    ];
    for (const leaf of leaves) {
      let out = '';
      const append = (s: string) => {
        out += s;
      };
      const code = await runCli([...leaf, '--help'], {}, { stdout: append, stderr: append });
      assert.equal(code, 0, leaf.join(' '));
      assert.match(out, new RegExp(`Usage: beacon ${leaf.join(' ')}`), leaf.join(' '));
    }
  });

  test('exit codes: 2 for a wrong command line, 3 when Beacon cannot be reached, 1 when Beacon refuses', async () => {
    assert.equal((await beacon(['nope'])).code, 2);
    assert.equal((await beacon(['users', 'delete', 'alice'], { BEACON_API_KEY: ADMIN_KEY })).code, 2, 'delete needs --yes');
    assert.equal((await beacon(['algo', 'versions', 'no-slash'], { BEACON_API_KEY: aliceKey })).code, 2);
    const down = await beacon(['users', 'list', '--url', 'http://127.0.0.1:9'], { BEACON_API_KEY: ADMIN_KEY });
    assert.equal(down.code, 3);
    assert.match(down.stderr, /cannot reach Beacon/);
    const refused = await beacon(['users', 'list'], { BEACON_API_KEY: aliceKey });
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /403/);
  });

  test('secret generate prints 32 random bytes, hex or base64', async () => {
    assert.match(ok(await beacon(['secret', 'generate'])).stdout.trim(), /^[0-9a-f]{64}$/);
    const b64 = json(await beacon(['secret', 'generate', '--base64', '--json'])).secret;
    assert.equal(Buffer.from(b64, 'base64').length, 32);
  });
});

describe('operator tasks against the database', () => {
  test('migrate applies every migration to an empty database, then has nothing to do', async () => {
    const empty = await createTestDb({ migrated: false });
    try {
      const first = json(await beacon(['migrate', '--json'], { DATABASE_URL: empty.url }));
      assert.ok(first.applied.length >= 3, JSON.stringify(first));
      assert.deepEqual(json(await beacon(['migrate', '--json'], { DATABASE_URL: empty.url })).applied, []);
      assert.equal((await beacon(['migrate'], { DATABASE_URL: 'postgres://postgres@127.0.0.1:9/nothing' })).code, 3);
    } finally {
      await empty.drop();
    }
  });

  test('admin create-key makes a working admin key (printed once), and imports one', async () => {
    const made = json(await beacon(['admin', 'create-key', '--label', 'ops', '--json'], { DATABASE_URL: t.testDb.url }));
    assert.match(made.api_key, /^sim[A-Za-z0-9]{28}$/);
    assert.equal(json(await beacon(['users', 'list', '--json'], { BEACON_API_KEY: made.api_key })).some((u: { username: string }) => u.username === 'alice'), true);
    const imported = 'simImportedByTheCli000000000000001';
    const imp = json(await beacon(['admin', 'create-key', '--import', imported, '--json'], { DATABASE_URL: t.testDb.url }));
    assert.equal(imp.api_key, undefined, 'an imported key is not echoed');
    ok(await beacon(['users', 'list'], { BEACON_API_KEY: imported }));
    assert.equal((await beacon(['admin', 'create-key', '--import', imported], { DATABASE_URL: t.testDb.url })).code, 1);
    assert.equal((await beacon(['admin', 'create-key', '--import', 'short'], { DATABASE_URL: t.testDb.url })).code, 2);
  });
});

describe('users and keys through the API', () => {
  test('users create, list, delete', async () => {
    assert.equal(json(await asAdmin(['users', 'create', 'bob', '--email', 'bob@example.com'])).username, 'bob');
    assert.ok(json(await asAdmin(['users', 'list'])).some((u: { username: string }) => u.username === 'bob'));
    assert.equal((await asAdmin(['users', 'create', 'bob'])).code, 1, 'taken');
    ok(await asAdmin(['users', 'delete', 'bob', '--yes']));
    assert.ok(!json(await asAdmin(['users', 'list'])).some((u: { username: string }) => u.username === 'bob'));
    assert.equal((await asAdmin(['users', 'delete', 'bob', '--yes'])).code, 1, 'gone');
  });

  test('keys create, list (never the key), rotate, revoke; the old secrets stop working', async () => {
    const made = json(await asAdmin(['keys', 'create', 'alice', '--label', 'cli']));
    const listed = json(await beacon(['keys', 'list', 'alice', '--json'], { BEACON_API_KEY: made.api_key }));
    assert.ok(listed.some((k: { id: string; key_prefix: string }) => k.id === made.id && k.key_prefix === made.api_key.slice(0, 8)));
    assert.ok(!JSON.stringify(listed).includes(made.api_key));
    const text = ok(await beacon(['keys', 'list', 'alice'], { BEACON_API_KEY: aliceKey })).stdout;
    assert.match(text, new RegExp(made.id));
    const rotated = json(await asAlice(['keys', 'rotate', 'alice', made.id]));
    assert.equal(rotated.id, made.id);
    assert.equal((await beacon(['keys', 'list', 'alice'], { BEACON_API_KEY: made.api_key })).code, 1, 'old secret refused');
    ok(await beacon(['keys', 'revoke', 'alice', made.id], { BEACON_API_KEY: rotated.api_key }));
    assert.equal((await beacon(['keys', 'list', 'alice'], { BEACON_API_KEY: rotated.api_key })).code, 1, 'revoked');
  });
});

describe('authors: algo create, push, compile, publish, call, versions', () => {
  test('the whole author loop, with progress on stderr and a failed build as exit 1', async () => {
    json(await asAlice(['algo', 'create', 'alice/Greeter', '--language', 'python3']));
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'beacon-cli-'));
    try {
      fs.mkdirSync(path.join(dir, 'src'));
      fs.writeFileSync(path.join(dir, 'src', 'Greeter.py'), 'def apply(input):\n    return {"hi": input}\n');
      fs.writeFileSync(path.join(dir, '.hidden'), 'skipped');
      assert.equal(json(await asAlice(['algo', 'push', 'alice/Greeter', dir])).entry_point, 'src/Greeter.py');
      const built = await asAlice(['algo', 'compile', 'alice/Greeter'], false);
      ok(built);
      assert.match(built.stderr, /Compiling alice\/Greeter .*done in/);
      const published = json(await asAlice(['algo', 'publish', 'alice/Greeter', '--type', 'minor', '--public']));
      assert.equal(published.version_info.semantic_version, '0.1.0');
      assert.deepEqual(json(await asAlice(['algo', 'call', 'alice/Greeter', '"you"'])).result, { hi: 'you' });
      assert.equal(ok(await asAlice(['algo', 'call', 'alice/Greeter/0.1.0', 'plain text', '--text'], false)).stdout.trim(), '{\n  "hi": "plain text"\n}');
      assert.equal(json(await asAlice(['algo', 'versions', 'alice/Greeter']))[0].version_info.semantic_version, '0.1.0');

      fs.writeFileSync(path.join(dir, 'src', 'Greeter.py'), 'def apply(input)\n    return 1\n');
      ok(await asAlice(['algo', 'push', 'alice/Greeter', dir]));
      const broken = await asAlice(['algo', 'compile', 'alice/Greeter'], false);
      assert.equal(broken.code, 1);
      assert.match(broken.stdout, /build failed[\s\S]*SyntaxError/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('insights', () => {
  test('status, a connection test that passes (exit 0) and one that fails (exit 1), tail', async () => {
    const status = json(await asAdmin(['insights', 'status']));
    assert.equal(status.configured, false);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'beacon-cli-'));
    try {
      const good = path.join(dir, 'good.json');
      const bad = path.join(dir, 'bad.json');
      const kafka = await ensureKafka();
      const conn = { connection_type: 'kafka_unauthenticated_plaintext', broker_url: kafka.plaintext, topic: kafka.topic };
      fs.writeFileSync(good, JSON.stringify(conn));
      fs.writeFileSync(bad, JSON.stringify({ ...conn, broker_url: '127.0.0.1:9' }));
      const passed = await beacon(['insights', 'test', '--file', good], { BEACON_API_KEY: ADMIN_KEY });
      ok(passed);
      assert.match(passed.stderr, /Testing the Insights connection/);
      assert.match(passed.stdout, /^ok/);
      const failed = await beacon(['insights', 'test', '--file', bad, '--json'], { BEACON_API_KEY: ADMIN_KEY });
      assert.equal(failed.code, 1);
      assert.equal(JSON.parse(failed.stdout).ok, false);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
    // The live tail: a call of an Insights version shows up as a waiting entry (no connection is set).
    assert.equal(ok(await beacon(['insights', 'tail', '--once'], { BEACON_API_KEY: ADMIN_KEY })).stdout, '');
    const author = new AlgorithmAuthor(t, 'alice', aliceKey);
    await author.deploy('Tailed', 'javascript', "exports.apply = async function (input) { await require('beacon').reportInsights({ cats: 3 }); return input; };", { insights: true });
    const called = json(await asAlice(['algo', 'call', 'alice/Tailed/0.1.0', '"x"']));
    const tail = ok(await beacon(['insights', 'tail', '--count', '1', '--interval', '0.2', '--algorithm', 'alice/Tailed', '--payload'], { BEACON_API_KEY: ADMIN_KEY }));
    assert.match(tail.stdout, new RegExp(`waiting +alice/Tailed/0\\.1\\.0 ${called.metadata.request_id}\\n +\\{.*"cats":3`));
    const entries = json(await beacon(['insights', 'tail', '--once', '--json'], { BEACON_API_KEY: ADMIN_KEY }));
    assert.equal(entries.request_id, called.metadata.request_id);
  });
});
