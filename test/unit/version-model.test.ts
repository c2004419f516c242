// The one row -> model mapping of a version (src/algorithms/version-model.ts): the management API's
// build views and execution's version refs read the same row keys through it.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { AlgorithmSettings } from '../../src/algorithms/algorithm-store';
import { toBuildView } from '../../src/algorithms/build-model';
import { toVersion, toVersionRef, type VersionRow } from '../../src/algorithms/version-model';

const sha = 'c'.repeat(40);
const publishedAt = new Date('2026-12-01T10:00:00Z');
const row: VersionRow = {
  version_id: 'v1',
  build_id: 'b1',
  commit_sha: sha,
  major: 1,
  minor: 10,
  revision: 2,
  algorithm_callability: 'private',
  insights_enabled: true,
  details: { label: 'L', summary: 'S', tagline: 'T' },
  settings: { insights_enabled: true } as AlgorithmSettings, // passed through as stored
  release_notes: 'notes',
  sample_input: null,
  published_at: publishedAt,
};

describe('version rows', () => {
  test('toVersionRef reads what choosing and running a version needs', () => {
    assert.deepEqual(toVersionRef(row), {
      buildId: 'b1',
      commitSha: sha,
      semver: { major: 1, minor: 10, revision: 2 },
      callability: 'private',
      insightsEnabled: true,
    });
  });

  test('toVersion is the ref plus the publish-time snapshot', () => {
    assert.deepEqual(toVersion(row), {
      ...toVersionRef(row),
      id: 'v1',
      details: row.details,
      settings: row.settings,
      releaseNotes: 'notes',
      sampleInput: null,
      publishedAt,
    });
  });

  test('a build view carries the version only when the left join found one', () => {
    const build = { id: 'b1', seq: 7, algorithm_id: 'a1', commit_sha: sha, status: 'succeeded', language: 'python3', logs: '', started_at: publishedAt, finished_at: publishedAt };
    const unpublished = toBuildView({ ...build, version_id: null, build_id: null, major: null });
    assert.equal(unpublished.version, undefined);
    assert.equal(unpublished.build.seq, '7');
    const published = toBuildView({ ...build, ...row });
    assert.deepEqual(published.version, toVersion(row));
    assert.equal(published.build.commitSha, published.version?.commitSha);
  });
});
