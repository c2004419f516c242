// Shared by the sandbox tests: an app with small worker limits, algorithms deployed with a chosen
// network_access, calls, and a TCP server on every interface to aim connections at.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import { networkInterfaces } from 'node:os';
import type { TestApp } from './app';
import { AlgorithmAuthor, type TestLanguage } from './execution-helpers';

// WORKER_SANDBOX=off in the test's environment runs the same attacks without the sandbox: every
// attack test must then fail (docs/security.md).
export const SANDBOX_ENV = {
  WORKER_SANDBOX: process.env.WORKER_SANDBOX === 'off' ? 'off' : 'on',
  WORKER_MEMORY_MB: '400',
  WORKER_DISK_MB: '64',
  WORKER_TMP_MB: '32',
  WORKER_MAX_PROCESSES: '64',
  WORKER_MAX_PER_VERSION: '1',
};

export const HEALTHY_PY = 'def apply(input):\n    return "healthy " + str(input)\n';

export async function deployWith(t: TestApp, owner: string, key: string, name: string, language: TestLanguage, code: string, o: { network?: 'isolated' | 'full'; insights?: boolean } = {}) {
  const res = await t.request.post(`/v1/algorithms/${owner}`).set('Authorization', `Simple ${key}`)
    .send({ name, settings: { language, ...(o.network ? { network_access: o.network } : {}) } });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  await new AlgorithmAuthor(t, owner, key).deploy(name, language, code, { create: false, insights: o.insights });
}

export async function callAlgo(t: TestApp, key: string, path: string, input: unknown, timeout = 60, stdout = false) {
  const res = await t.request.post(`/v1/algo/${path}?timeout=${timeout}${stdout ? "&stdout=true" : ""}`).set('Authorization', `Simple ${key}`).type('json').send(JSON.stringify(input));
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body as { result?: unknown; error?: { message: string; error_type: string }; request_id: string };
}

/** The call must have failed with this error type and a message matching `message`. */
export function assertError(body: Awaited<ReturnType<typeof callAlgo>>, type: string, message: RegExp): void {
  assert.ok(body.error, `expected an error, got ${JSON.stringify(body).slice(0, 500)}`);
  assert.equal(body.error.error_type, type, JSON.stringify(body.error));
  assert.match(body.error.message, message);
}

/** This host's non-loopback IPv4 addresses. */
export function hostAddresses(): string[] {
  return Object.values(networkInterfaces()).flat().filter((a) => a && a.family === 'IPv4' && !a.internal).map((a) => a!.address);
}

/** A TCP server on all interfaces standing for "a private service of this host". */
export async function listenEverywhere(): Promise<{ server: Server; port: number; connections: () => number }> {
  let n = 0;
  const server = createServer((s) => {
    n++;
    s.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, '0.0.0.0', resolve));
  return { server, port: (server.address() as { port: number }).port, connections: () => n };
}
