// A process an algorithm leaves running after its call keeps the call's ALGORITHMIA_API, but the
// token in it died with the call: its nested calls are refused (403), even while the same worker
// runs a later call for the same caller. The app runs with WORKER_SANDBOX=off on purpose: with the
// sandbox on, the between-calls sweep kills the process first (test/int/sandbox.int.test.ts), so only
// here is the per-call token the one control that stops it.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startTestApp, type TestApp } from '../support/app';
import { AlgorithmAuthor } from '../support/execution-helpers';

const LEFTOVER = `
import os, time, urllib.request, urllib.error

LOG = os.path.join(os.path.expanduser("~"), "statuses")

def attempt(api):
    req = urllib.request.Request(api + "/v1/algo/erin/Echo", data=b'"x"', method="POST", headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code

def lines():
    return open(LOG).read().split() if os.path.exists(LOG) else []

def apply(input):
    if input == "start":
        api = os.environ["ALGORITHMIA_API"]
        if os.fork() == 0:
            os.setsid()
            if os.fork() == 0:
                for _ in range(400):
                    if os.path.exists(LOG + ".stop"):
                        break
                    status = attempt(api)
                    with open(LOG, "a") as f:
                        f.write("%d\\n" % status)
                    time.sleep(0.05)
                os._exit(0)
            os._exit(0)
        while not lines():
            time.sleep(0.02)  # the left-behind process made one call while this call ran
        return api
    # A later call on the same worker: let the left-behind process try a few more times, then stop it.
    seen = len(lines())
    deadline = time.time() + 60
    while len(lines()) < seen + 3 and time.time() < deadline:
        time.sleep(0.05)
    open(LOG + ".stop", "w").close()
    time.sleep(0.3)
    return [int(s) for s in lines()]
`;

let t: TestApp;
let erin: AlgorithmAuthor;

before(async () => {
  t = await startTestApp({ WORKER_SANDBOX: 'off', WORKER_MAX_PER_VERSION: '1' });
  erin = new AlgorithmAuthor(t, 'erin', await t.createUser('erin'));
  await erin.deploy('Echo', 'python3', 'def apply(input):\n    return input\n');
  await erin.deploy('Leftover', 'python3', LEFTOVER);
});

after(async () => t?.close());

test('a nested call from a process left running after its call is refused: the token died with the call', async () => {
  const call = (body: string) => t.request.post('/v1/algo/erin/Leftover').set('Authorization', `Simple ${erin.key}`).type('text/plain').send(body);
  const first = await call('start');
  assert.equal(first.status, 200, JSON.stringify(first.body));
  assert.match(String(first.body.result), /\/worker\/[A-Za-z0-9_-]{32}$/, JSON.stringify(first.body));
  const second = await call('read');
  assert.equal(second.status, 200, JSON.stringify(second.body));
  const statuses = second.body.result as number[];
  assert.ok(Array.isArray(statuses), JSON.stringify(second.body));
  assert.equal(statuses[0], 200, `the nested call made while its call ran succeeds: ${statuses}`);
  const firstRefusal = statuses.indexOf(403);
  assert.ok(firstRefusal > 0, `once its call ended, the left-behind process is refused: ${statuses}`);
  assert.ok(statuses.slice(firstRefusal).every((s) => s === 403), `nothing succeeds after the first refusal, not even during the next call: ${statuses}`);
  assert.ok(statuses.length - firstRefusal >= 3, `${statuses}`);
  // The stale token is refused from outside too.
  const token = String(first.body.result).split('/').pop();
  const stale = await t.request.post(`/worker/${token}/v1/algo/erin/Echo`).type('application/json').send('"x"');
  assert.equal(stale.status, 403);
  assert.match(stale.body.error.message, /Unknown or expired call token/);
});
