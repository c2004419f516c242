import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';

// The conventions of ../shared/STYLE.md that matter most, enforced rather than only written down.
const src = path.join(__dirname, '..', '..', 'src');
const files = (function walk(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? walk(p) : e.name.endsWith('.ts') ? [p] : [];
  });
})(src).map((p) => ({ rel: path.relative(src, p), text: fs.readFileSync(p, 'utf8') }));

const offenders = (pred: (f: { rel: string; text: string }) => boolean) => files.filter(pred).map((f) => f.rel).sort();

test('only the Insights Kafka adapters import kafkajs', () => {
  assert.deepEqual(offenders((f) => /from 'kafkajs'/.test(f.text) && !/^insights\/kafka-[\w-]+\.ts$/.test(f.rel)), []);
});

test('SQL lives in stores (and the database platform module), never in routes or services', () => {
  assert.deepEqual(offenders((f) => /from 'knex'/.test(f.text.replace(/import type [^;]+;/g, '')) && f.rel !== 'platform/db.ts'), []);
  const sql = /\.raw\(|\bdb\(['`]|\.transaction\(/;
  assert.deepEqual(offenders((f) => sql.test(f.text) && !/-(store|model)\.ts$/.test(f.rel) && f.rel !== 'platform/db.ts'), []);
});

test('only config.ts and main.ts read the environment; only main.ts exits the process', () => {
  assert.deepEqual(offenders((f) => /process\.env\b/.test(f.text) && !['config.ts', 'main.ts'].includes(f.rel)), []);
  assert.deepEqual(offenders((f) => /process\.exit\(/.test(f.text) && f.rel !== 'main.ts'), []);
});

test('files stay small, and names are kebab-case', () => {
  // Generated code (src/generated, from openapi.yaml) is as long as the spec it mirrors.
  assert.deepEqual(offenders((f) => f.text.split('\n').length > 350 && !f.rel.startsWith('generated/')), []);
  assert.deepEqual(offenders((f) => !/^[a-z0-9-]+(\/[a-z0-9-]+)*\.ts$/.test(f.rel)), []);
});
