// Shared set-up of the management API integration tests (algorithms, builds, versions).
import assert from 'node:assert/strict';
import type { TestApp } from './app';

export const auth = (key: string) => ({ Authorization: `Simple ${key}` });

export const PY_SETTINGS = {
  language: 'python3-1',
  environment: 'cpu',
  license: 'apl',
  network_access: 'full',
  pipeline_enabled: true,
  source_visibility: 'closed',
};

export async function createAlgorithm(t: TestApp, key: string, owner: string, name: string, settings: Record<string, unknown> = PY_SETTINGS) {
  const res = await t.request.post(`/v1/algorithms/${owner}`).set(auth(key)).send({ name, details: { label: name }, settings });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return res.body;
}

export async function compile(t: TestApp, key: string, owner: string, name: string) {
  const res = await t.request.post(`/v1/algorithms/${owner}/${name}/compile`).set(auth(key)).send({});
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body;
}

export async function publish(t: TestApp, key: string, owner: string, name: string, body: unknown = {}) {
  const res = await t.request.post(`/v1/algorithms/${owner}/${name}/versions`).set(auth(key)).send(body as object);
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body;
}

export async function countRows(t: TestApp, table: string): Promise<number> {
  const row = await t.testDb.db(table).count<{ count: string }[]>('* as count').first();
  return Number(row?.count ?? 0);
}

/** Row counts of every management table, to show that a refused request changed nothing. */
export async function snapshotCounts(t: TestApp): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const table of ['algorithms', 'algorithm_sources', 'builds', 'versions']) out[table] = await countRows(t, table);
  return out;
}

export function assertErrorObject(res: { status: number; body: any }, status: number, code?: number): void {
  assert.equal(res.status, status, JSON.stringify(res.body));
  assert.equal(typeof res.body.error, 'object', JSON.stringify(res.body));
  assert.equal(typeof res.body.error.message, 'string');
  if (code !== undefined) assert.equal(res.body.error.code, code, JSON.stringify(res.body));
}
