import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { bump, compareSemver, formatSemver, normaliseVersionType, parseSemver } from '../../src/algorithms/semver';

describe('semver', () => {
  test('the first publish of each type starts from 0.0.0', () => {
    assert.equal(formatSemver(bump(undefined, 'minor')), '0.1.0');
    assert.equal(formatSemver(bump(undefined, 'major')), '1.0.0');
    assert.equal(formatSemver(bump(undefined, 'revision')), '0.0.1');
  });

  test('bumps reset the lower fields', () => {
    const v = { major: 2, minor: 5, revision: 7 };
    assert.equal(formatSemver(bump(v, 'major')), '3.0.0');
    assert.equal(formatSemver(bump(v, 'minor')), '2.6.0');
    assert.equal(formatSemver(bump(v, 'revision')), '2.5.8');
  });

  test('every bump is strictly greater than what it bumps', () => {
    const semver = fc.record({ major: fc.nat(1000), minor: fc.nat(1000), revision: fc.nat(1000) });
    const type = fc.constantFrom('major' as const, 'minor' as const, 'revision' as const);
    fc.assert(fc.property(semver, type, (v, t) => compareSemver(bump(v, t), v) > 0));
  });

  test('version type spellings of the clients and docs', () => {
    assert.equal(normaliseVersionType(undefined), 'minor');
    assert.equal(normaliseVersionType('default'), 'minor');
    assert.equal(normaliseVersionType('patch'), 'revision');
    assert.equal(normaliseVersionType('Revision'), 'revision');
    assert.equal(normaliseVersionType('MAJOR'), 'major');
    assert.equal(normaliseVersionType('build'), undefined);
    assert.equal(normaliseVersionType(''), undefined);
  });

  test('parseSemver is strict and round-trips with formatSemver', () => {
    assert.deepEqual(parseSemver('1.2.3'), { major: 1, minor: 2, revision: 3 });
    for (const bad of ['1.2', '1.2.*', '01.2.3', '1.2.3.4', 'v1.2.3', '', 'latest', '1.2.-3', '1234567890.0.0']) {
      assert.equal(parseSemver(bad), undefined, bad);
    }
    fc.assert(
      fc.property(fc.nat(999_999), fc.nat(999_999), fc.nat(999_999), (major, minor, revision) => {
        const v = { major, minor, revision };
        assert.deepEqual(parseSemver(formatSemver(v)), v);
      }),
    );
  });
});
