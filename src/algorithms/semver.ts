// Semantic versions of published algorithm versions. Algorithmia never documented the arithmetic; the
// only evidence is that the first "minor" publish yields 0.1.0, so the base is 0.0.0 and bumps reset
// the lower fields as in semver.org.

export type VersionType = 'major' | 'minor' | 'revision';

export interface SemVer {
  major: number;
  minor: number;
  revision: number;
}

// Spellings the clients and docs use: OAS "revision", SLATE prose "patch", DC "default" (= minor).
const VERSION_TYPES: Record<string, VersionType> = {
  major: 'major',
  minor: 'minor',
  revision: 'revision',
  patch: 'revision',
  default: 'minor',
};

/** The accepted spellings, for validation and documentation. */
export const VERSION_TYPE_SPELLINGS = Object.freeze(Object.keys(VERSION_TYPES));

/** Missing means minor (DC: "if blank, a minor version increment will be used"); unknown is undefined. */
export function normaliseVersionType(s: string | undefined): VersionType | undefined {
  if (s === undefined) return 'minor';
  const key = s.trim().toLowerCase();
  return Object.prototype.hasOwnProperty.call(VERSION_TYPES, key) ? VERSION_TYPES[key] : undefined;
}

export function bump(current: SemVer | undefined, type: VersionType): SemVer {
  const v = current ?? { major: 0, minor: 0, revision: 0 };
  switch (type) {
    case 'major':
      return { major: v.major + 1, minor: 0, revision: 0 };
    case 'minor':
      return { major: v.major, minor: v.minor + 1, revision: 0 };
    case 'revision':
      return { major: v.major, minor: v.minor, revision: v.revision + 1 };
  }
}

const SEMVER_PATTERN = /^(0|[1-9]\d{0,8})\.(0|[1-9]\d{0,8})\.(0|[1-9]\d{0,8})$/;

/** Strict "M.m.r" (no leading zeros, no wildcards); anything else is undefined. */
export function parseSemver(s: string): SemVer | undefined {
  const m = SEMVER_PATTERN.exec(s);
  if (!m) return undefined;
  return { major: Number(m[1]), minor: Number(m[2]), revision: Number(m[3]) };
}

export const formatSemver = (v: SemVer): string => `${v.major}.${v.minor}.${v.revision}`;

export function compareSemver(a: SemVer, b: SemVer): number {
  return a.major - b.major || a.minor - b.minor || a.revision - b.revision;
}
