import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import YAML from 'yaml';

// No Docker engine here: the Dockerfile is linted (dockerfile-utils, the linter behind VS Code's
// Docker support) and both files are checked for what operators rely on.
const root = path.join(__dirname, '..', '..');

test('the Dockerfile lints clean and runs node directly as a non-root user with a health check', () => {
  const lint = spawnSync(path.join(root, 'node_modules', '.bin', 'dockerfile-utils'), ['lint', path.join(root, 'Dockerfile')], { encoding: 'utf8' });
  assert.equal(lint.status, 0, lint.stdout + lint.stderr);
  const text = fs.readFileSync(path.join(root, 'Dockerfile'), 'utf8');
  assert.match(text, /^FROM .* AS build$/m, 'multi-stage');
  assert.match(text, /^USER (?!root)\w+$/m, 'non-root');
  assert.match(text, /^HEALTHCHECK [\s\S]*\/healthz/m);
  assert.match(text, /^CMD \["node", "dist\/src\/main\.js"\]$/m, 'exec form, so SIGTERM reaches node');
  assert.match(text, /r-base-core/);
  assert.match(text, /python3/);
  const build = JSON.parse(fs.readFileSync(path.join(root, 'tsconfig.build.json'), 'utf8'));
  assert.deepEqual(build.include.sort(), ['migrations', 'src'], 'dist/ holds the service and its migrations');
});

test('docker-compose.yml brings up PostgreSQL, a KRaft Kafka and Beacon wired together', () => {
  const compose = YAML.parse(fs.readFileSync(path.join(root, 'docker-compose.yml'), 'utf8'));
  assert.deepEqual(Object.keys(compose.services).sort(), ['beacon', 'kafka', 'postgres']);
  const beacon = compose.services.beacon;
  assert.match(beacon.environment.DATABASE_URL, /@postgres:5432\//);
  assert.ok(beacon.environment.BEACON_SECRET_KEY, 'production mode needs the secret key');
  assert.equal(compose.services.kafka.environment.KAFKA_PROCESS_ROLES, 'broker,controller');
  assert.equal(beacon.depends_on.postgres.condition, 'service_healthy');
});
