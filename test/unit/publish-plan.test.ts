import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { AlgorithmSettings } from '../../src/algorithms/algorithm-store';
import { formatSemver } from '../../src/algorithms/semver';
import { planPublish } from '../../src/algorithms/version-service';
import type { PublishState } from '../../src/algorithms/version-store';
import type { BuildView } from '../../src/algorithms/build-model';
import { ApiError } from '../../src/platform/errors';

const settings: AlgorithmSettings = {
  algorithm_callability: 'private',
  source_visibility: 'closed',
  license: 'apl',
  network_access: 'full',
  pipeline_enabled: true,
  environment: 'cpu',
  royalty_microcredits: 0,
  insights_enabled: false,
};
const sha = 'a'.repeat(40);
const build: BuildView = {
  build: { id: 'b1', seq: '1', algorithmId: 'a1', commitSha: sha, status: 'succeeded', language: 'python3', logs: '', startedAt: new Date(), finishedAt: new Date() },
};
const state = (over: Partial<PublishState> = {}): PublishState => ({
  details: { label: 'L', summary: '', tagline: '' },
  settings,
  latest: build,
  ...over,
});
const refusedWith = (fn: () => unknown, code: number) =>
  assert.throws(fn, (e: unknown) => e instanceof ApiError && e.status === 400 && e.code === code);

describe('planPublish', () => {
  test('{} publishes a private minor version without Insights', () => {
    const p = planPublish(state(), {});
    assert.equal(formatSemver(p.semver), '0.1.0');
    assert.equal(p.callability, 'private');
    assert.equal(p.insightsEnabled, false);
    assert.equal(p.settings.insights_enabled, false);
    assert.equal(p.releaseNotes, '');
    assert.equal(p.sampleInput, null);
  });

  test('version type from version_type or type; version_type wins', () => {
    const highest = { major: 1, minor: 2, revision: 3 };
    assert.equal(formatSemver(planPublish(state({ highest }), { version_info: { version_type: 'revision' } }).semver), '1.2.4');
    assert.equal(formatSemver(planPublish(state({ highest }), { version_info: { type: 'major' } }).semver), '2.0.0');
    assert.equal(formatSemver(planPublish(state({ highest }), { version_info: { version_type: 'patch', type: 'major' } }).semver), '1.2.4');
  });

  test('insights from settings or version_info; settings wins', () => {
    assert.equal(planPublish(state(), { settings: { insights_enabled: true } }).insightsEnabled, true);
    assert.equal(planPublish(state(), { version_info: { insights_enabled: true } }).insightsEnabled, true);
    const both = planPublish(state(), { settings: { insights_enabled: false }, version_info: { insights_enabled: true } });
    assert.equal(both.insightsEnabled, false);
  });

  test('callability defaults to the algorithm current one', () => {
    const pub = { ...settings, algorithm_callability: 'public' as const };
    assert.equal(planPublish(state({ settings: pub }), {}).callability, 'public');
    assert.equal(planPublish(state({ settings: pub }), { settings: { algorithm_callability: 'private' } }).callability, 'private');
  });

  test('refusals: no build (1010), already published (1007), not the newest build (2015)', () => {
    refusedWith(() => planPublish(state({ latest: undefined }), {}), 1010);
    const published = { ...build, version: {} as BuildView['version'] };
    refusedWith(() => planPublish(state({ latest: published }), {}), 1007);
    refusedWith(() => planPublish(state(), { version_info: { git_hash: 'b'.repeat(40) } }), 2015);
    assert.equal(formatSemver(planPublish(state(), { version_info: { git_hash: sha } }).semver), '0.1.0');
  });
});
