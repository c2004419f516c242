import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';

// src/generated/openapi-types.ts is committed so that the service, the client and the CLI compile
// without a generation step; this keeps it in step with openapi.yaml (`npm run gen:api` rewrites it).
const root = path.join(__dirname, '..', '..');

test('the generated API types are up to date with openapi.yaml', () => {
  const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'beacon-gen-')), 'openapi-types.ts');
  try {
    const cli = path.join(root, 'node_modules', 'openapi-typescript', 'bin', 'cli.js');
    execFileSync(process.execPath, [cli, path.join(root, 'openapi.yaml'), '--default-non-nullable', 'false', '-o', out], { stdio: 'pipe' });
    const committed = fs.readFileSync(path.join(root, 'src', 'generated', 'openapi-types.ts'), 'utf8');
    assert.ok(committed === fs.readFileSync(out, 'utf8'), 'src/generated/openapi-types.ts is stale: run npm run gen:api and commit it');
  } finally {
    fs.rmSync(path.dirname(out), { recursive: true, force: true });
  }
});
