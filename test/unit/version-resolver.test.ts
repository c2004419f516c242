import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  parseVersionSpec,
  resolveVersion,
  type BuildCandidate,
  type Resolution,
} from '../../src/execution/version-resolver';
import type { VersionRef } from '../../src/algorithms/version-model';

const hashOf = (n: number) => n.toString(16).padStart(40, '0');

function v(s: string, callability: 'public' | 'private', insightsEnabled = false): VersionRef {
  const [major, minor, revision] = s.split('.').map(Number);
  return { semver: { major, minor, revision }, callability, insightsEnabled, buildId: `build-${s}`, commitSha: hashOf(major * 10000 + minor * 100 + revision) };
}

// Deliberately out of order: "highest" must be semantic-version order, not list order.
const VERSIONS: VersionRef[] = [
  v('1.2.0', 'public'),
  v('0.9.0', 'public'),
  v('1.10.0', 'public', true),
  v('1.2.7', 'private'),
  v('1.2.3', 'public'),
  v('2.0.0', 'private'),
  v('1.3.0', 'private'),
];

function resolve(raw: string | undefined, isOwner: boolean, versions = VERSIONS, build?: BuildCandidate): Resolution {
  const spec = parseVersionSpec(raw);
  assert.ok(spec, `'${raw}' should parse`);
  return resolveVersion(spec, versions, isOwner, build);
}

const picked = (r: Resolution) => (r.ok ? r.version.semanticVersion ?? r.version.commitSha : `${r.status}`);

describe('parseVersionSpec', () => {
  test('accepts every documented form', () => {
    assert.deepEqual(parseVersionSpec(undefined), { kind: 'latest' });
    assert.deepEqual(parseVersionSpec(''), { kind: 'latest' });
    assert.deepEqual(parseVersionSpec('latest'), { kind: 'latest' });
    assert.deepEqual(parseVersionSpec('latestPrivate'), { kind: 'latestPrivate' });
    assert.deepEqual(parseVersionSpec('1'), { kind: 'major', major: 1 });
    assert.deepEqual(parseVersionSpec('1.*'), { kind: 'major', major: 1 });
    assert.deepEqual(parseVersionSpec('1.2'), { kind: 'minor', major: 1, minor: 2 });
    assert.deepEqual(parseVersionSpec('1.2.*'), { kind: 'minor', major: 1, minor: 2 });
    assert.deepEqual(parseVersionSpec('1.2.3'), { kind: 'exact', version: { major: 1, minor: 2, revision: 3 } });
    assert.deepEqual(parseVersionSpec('A'.repeat(40)), { kind: 'hash', hash: 'a'.repeat(40) });
  });

  test('refuses anything else', () => {
    for (const bad of ['1.2.3.4', '1.*.3', '*', '1.x', 'v1.2.3', '01.2.3', '1.2.3-beta', 'a'.repeat(39), 'g'.repeat(40), 'latest1', '1..2', ' 1']) {
      assert.equal(parseVersionSpec(bad), undefined, bad);
    }
  });
});

describe('resolveVersion', () => {
  // [version, owner's answer, other user's answer]
  const table: Array<[string | undefined, string, string]> = [
    [undefined, '1.10.0', '1.10.0'], // highest public, not the private 2.0.0
    ['latest', '1.10.0', '1.10.0'],
    ['latestPrivate', '2.0.0', '403'], // any callability, owner only
    ['1', '1.10.0', '1.10.0'], // 1.10 > 1.3 > 1.2 numerically; 1.3.0 is private anyway
    ['1.*', '1.10.0', '1.10.0'],
    ['1.2', '1.2.3', '1.2.3'], // the private 1.2.7 is never picked by a partial version
    ['1.2.*', '1.2.3', '1.2.3'],
    ['1.3', '404', '404'], // only a private 1.3.0 exists: partials never resolve to it
    ['2', '404', '404'],
    ['0', '0.9.0', '0.9.0'],
    ['1.2.3', '1.2.3', '1.2.3'],
    ['1.2.7', '1.2.7', '403'], // exact private: owner only
    ['2.0.0', '2.0.0', '403'],
    ['1.2.4', '404', '404'],
    ['3.*', '404', '404'],
  ];
  for (const [raw, owner, other] of table) {
    test(`${raw ?? '(none)'} -> owner ${owner}, other user ${other}`, () => {
      assert.equal(picked(resolve(raw, true)), owner);
      assert.equal(picked(resolve(raw, false)), other);
    });
  }

  test('carries the Insights flag and the build of the chosen version', () => {
    const r = resolve('1.10', false);
    assert.ok(r.ok);
    assert.deepEqual(r.version, { buildId: 'build-1.10.0', commitSha: hashOf(11000), semanticVersion: '1.10.0', insightsEnabled: true });
  });

  test('with no versions at all, every form is a 404 (latestPrivate too, for the owner)', () => {
    for (const raw of [undefined, 'latestPrivate', '1', '1.2', '1.2.3']) assert.equal(picked(resolve(raw, true, [])), '404', String(raw));
  });

  test('with only private versions, latest is a 404 and latestPrivate finds them for the owner', () => {
    const privateOnly = [v('0.1.0', 'private'), v('0.2.0', 'private')];
    assert.equal(picked(resolve(undefined, true, privateOnly)), '404');
    assert.equal(picked(resolve('latestPrivate', true, privateOnly)), '0.2.0');
    assert.equal(picked(resolve('latestPrivate', false, privateOnly)), '403');
  });

  describe('build hashes', () => {
    const hash = 'ab'.repeat(20);
    const unpublished: BuildCandidate = { buildId: 'b1', commitSha: hash, status: 'succeeded' };

    test('an unpublished successful build runs for the owner, without Insights', () => {
      const r = resolve(hash, true, VERSIONS, unpublished);
      assert.ok(r.ok);
      assert.deepEqual(r.version, { buildId: 'b1', commitSha: hash, insightsEnabled: false });
    });

    test('a published build runs as its version, with that version\'s Insights flag', () => {
      const published = { ...unpublished, published: v('1.10.0', 'public', true) };
      const r = resolve(hash, true, VERSIONS, published);
      assert.ok(r.ok);
      assert.equal(r.version.semanticVersion, '1.10.0');
      assert.equal(r.version.insightsEnabled, true);
    });

    test('other users may not call by hash, whether or not the build exists or is public', () => {
      assert.equal(picked(resolve(hash, false, VERSIONS, unpublished)), '403');
      assert.equal(picked(resolve(hash, false, VERSIONS, { ...unpublished, published: v('1.10.0', 'public') })), '403');
      assert.equal(picked(resolve(hash, false, VERSIONS, undefined)), '403');
    });

    test('unknown, failed and unfinished builds are 404s', () => {
      assert.equal(picked(resolve(hash, true, VERSIONS, undefined)), '404');
      assert.equal(picked(resolve(hash, true, VERSIONS, { ...unpublished, status: 'failed' })), '404');
      assert.equal(picked(resolve(hash, true, VERSIONS, { ...unpublished, status: 'in-progress' })), '404');
      assert.equal(picked(resolve(hash, true, VERSIONS, { ...unpublished, commitSha: 'cd'.repeat(20) })), '404');
    });
  });

  test('refusals say why', () => {
    const r = resolve('1.2.7', false);
    assert.ok(!r.ok);
    assert.match(r.reason, /private/);
    const n = resolve('1.3', true);
    assert.ok(!n.ok);
    assert.match(n.reason, /no public 1\.3\.y version/);
  });
});
