// Fault tier: talks to a listening Beacon (in-process or a child process) over real HTTP, the way a
// client would, so the same helpers work whichever way the service under test runs.
import assert from 'node:assert/strict';
import type { KafkaInfo } from './kafka';

export interface HttpReply {
  status: number;
  body: any;
}

/** One JSON request with a hard client-side timeout: a fault must never turn into a hung test. */
export async function api(
  url: string,
  method: string,
  path: string,
  key: string | undefined,
  body?: unknown,
  timeoutMs = 30_000,
): Promise<HttpReply> {
  const res = await fetch(`${url}${path}`, {
    method,
    headers: { 'Content-Type': 'application/json', ...(key ? { Authorization: `Simple ${key}` } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(timeoutMs),
  });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    // not JSON: keep the text for the assertion message
  }
  return { status: res.status, body: parsed };
}

function expectStatus(r: HttpReply, status: number, what: string): void {
  assert.equal(r.status, status, `${what}: HTTP ${r.status} ${JSON.stringify(r.body).slice(0, 500)}`);
}

/** Creates a user through the admin API and returns a standard key for it. */
export async function createUserKey(url: string, adminKey: string, username: string): Promise<string> {
  expectStatus(await api(url, 'POST', '/v1/users', adminKey, { username }), 201, 'create user');
  const r = await api(url, 'POST', `/v1/admin/users/${username}/keys`, adminKey, { permissions: {} });
  expectStatus(r, 201, 'create key');
  return r.body.api_key as string;
}

export interface PublishedAlgorithm {
  owner: string;
  name: string;
  version: string; // semantic version
  gitHash: string;
  /** Path of POST /v1/algo for this exact version. */
  callPath: string;
}

/**
 * Creates a Python algorithm with `source` as its entry file, compiles it and publishes a public,
 * Insights-enabled version.
 */
export async function publishPythonAlgorithm(
  url: string,
  key: string,
  owner: string,
  name: string,
  source: string,
): Promise<PublishedAlgorithm> {
  const base = `/v1/algorithms/${owner}/${name}`;
  const created = await api(url, 'POST', `/v1/algorithms/${owner}`, key, {
    name,
    details: { label: name },
    settings: { language: 'python3', source_visibility: 'closed', license: 'apl', network_access: 'full', pipeline_enabled: false },
  });
  expectStatus(created, 201, 'create algorithm');
  const files = { 'src/__init__.py': '', [`src/${name}.py`]: source };
  expectStatus(await api(url, 'PUT', `${base}/source`, key, { files }), 200, 'put source');
  const compiled = await api(url, 'POST', `${base}/compile`, key, {}, 120_000);
  expectStatus(compiled, 200, 'compile');
  const gitHash = compiled.body.version_info.git_hash as string;
  const published = await api(url, 'POST', `${base}/versions`, key, {
    settings: { algorithm_callability: 'public', insights_enabled: true },
    version_info: { version_type: 'minor', git_hash: gitHash },
  });
  expectStatus(published, 200, 'publish');
  const version = published.body.version_info.semantic_version as string;
  assert.ok(version, `publish answered no semantic version: ${JSON.stringify(published.body)}`);
  return { owner, name, version, gitHash, callPath: `/v1/algo/${owner}/${name}/${version}` };
}

/** Semantic versions of the algorithm's published versions (GET .../versions, first page). */
export async function publishedVersions(url: string, key: string, owner: string, name: string): Promise<string[]> {
  const r = await api(url, 'GET', `/v1/algorithms/${owner}/${name}/versions?published=true&limit=100`, key);
  expectStatus(r, 200, 'list versions');
  return (r.body.results as Array<{ version_info?: { semantic_version?: string } }>)
    .map((v) => v.version_info?.semantic_version)
    .filter((v): v is string => typeof v === 'string');
}

/** Points the cluster's Insights connection at the broker's PLAINTEXT listener and `topic`. */
export async function configureInsights(url: string, adminKey: string, info: KafkaInfo, topic: string): Promise<void> {
  const r = await api(url, 'POST', '/v1/admin/insights-connection', adminKey, {
    connection_type: 'kafka_unauthenticated_plaintext',
    broker_url: info.plaintext,
    topic,
  });
  assert.ok(r.status === 200 || r.status === 201, `configure insights: HTTP ${r.status} ${JSON.stringify(r.body).slice(0, 500)}`);
}

/**
 * Polls the status until the outbox is empty (every stored payload handed to Kafka) or `timeoutMs`
 * passed; returns the last status either way, so the caller's assertions say what was left.
 */
export async function waitForDrain(url: string, adminKey: string, timeoutMs: number): Promise<any> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const r = await api(url, 'GET', '/v1/admin/insights-connection/status', adminKey).catch(() => undefined);
    if (r?.status === 200 && r.body.backlog === 0) return r.body;
    if (Date.now() >= end) return r?.body;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** The source of the trivial Insights algorithm; `{"sleep": s}` as input makes one call slow. */
export const ECHO_SOURCE = `import time

def apply(input):
    if isinstance(input, dict) and "sleep" in input:
        time.sleep(input["sleep"])
    return input
`;
