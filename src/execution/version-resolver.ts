// Which build a `/v1/algo/{owner}/{name}[/{version}]` call runs. Pure: the caller passes what the
// database knows, this decides. Rules (reference/algorithmia-api.md 4.2):
//   none | latest      highest public version
//   latestPrivate      highest version of any callability; owner only
//   1 | 1.*            highest public 1.x.y        (partial versions never pick a private version)
//   1.2 | 1.2.*        highest public 1.2.y
//   1.2.3              exactly that version; a private one only for the owner
//   <40 hex>           that build, published or not, if it succeeded; owner only
// "Highest" is semantic-version order, not publish order. A non-owner asking for something only the
// owner may call gets 403 (the algorithm's existence is not secret: its public versions are callable).
import { compareSemver, formatSemver, type SemVer } from '../algorithms/semver';
import type { BuildStatus, VersionRef } from '../algorithms/version-model';
import { GIT_HASH_PATTERN } from '../platform/ids';

export type VersionSpec =
  | { kind: 'latest' }
  | { kind: 'latestPrivate' }
  | { kind: 'major'; major: number }
  | { kind: 'minor'; major: number; minor: number }
  | { kind: 'exact'; version: SemVer }
  | { kind: 'hash'; hash: string };

/** A build looked up by commit hash, with its published version when it has one. */
export interface BuildCandidate {
  buildId: string;
  commitSha: string;
  status: BuildStatus;
  published?: VersionRef;
}

/** What a call runs: a build, and its version's semantic version ("1.2.3") when it is published. */
export type ResolvedVersion = Pick<VersionRef, 'buildId' | 'commitSha' | 'insightsEnabled'> & { semanticVersion?: string };

export type Resolution = { ok: true; version: ResolvedVersion } | { ok: false; status: 403 | 404; reason: string };

const NUM = '(0|[1-9]\\d{0,8})';
const MAJOR = new RegExp(`^${NUM}(?:\\.\\*)?$`);
const MINOR = new RegExp(`^${NUM}\\.${NUM}(?:\\.\\*)?$`);
const EXACT = new RegExp(`^${NUM}\\.${NUM}\\.${NUM}$`);

/** Parses the {version} path segment; undefined when it is none of the accepted forms. */
export function parseVersionSpec(raw: string | undefined): VersionSpec | undefined {
  if (raw === undefined || raw === '' || raw.toLowerCase() === 'latest') return { kind: 'latest' };
  if (raw.toLowerCase() === 'latestprivate') return { kind: 'latestPrivate' };
  if (GIT_HASH_PATTERN.test(raw)) return { kind: 'hash', hash: raw.toLowerCase() };
  let m = EXACT.exec(raw);
  if (m) return { kind: 'exact', version: { major: Number(m[1]), minor: Number(m[2]), revision: Number(m[3]) } };
  m = MINOR.exec(raw);
  if (m) return { kind: 'minor', major: Number(m[1]), minor: Number(m[2]) };
  m = MAJOR.exec(raw);
  if (m) return { kind: 'major', major: Number(m[1]) };
  return undefined;
}

export const VERSION_FORMS = 'latest, latestPrivate, 1, 1.*, 1.2, 1.2.*, 1.2.3 or a 40-character build hash';

function highest(versions: VersionRef[], keep: (v: VersionRef) => boolean): VersionRef | undefined {
  let best: VersionRef | undefined;
  for (const v of versions) if (keep(v) && (!best || compareSemver(v.semver, best.semver) > 0)) best = v;
  return best;
}

const fromPublished = (v: VersionRef): ResolvedVersion => ({
  buildId: v.buildId,
  commitSha: v.commitSha,
  semanticVersion: formatSemver(v.semver),
  insightsEnabled: v.insightsEnabled,
});

const found = (v: VersionRef | undefined, reason: string): Resolution =>
  v ? { ok: true, version: fromPublished(v) } : { ok: false, status: 404, reason };

/**
 * Resolves a parsed spec against the algorithm's published versions (any order) and, for a hash
 * spec, the build with that hash (undefined when there is none).
 */
export function resolveVersion(
  spec: VersionSpec,
  versions: VersionRef[],
  isOwner: boolean,
  build?: BuildCandidate,
): Resolution {
  const isPublic = (v: VersionRef) => v.callability === 'public';
  switch (spec.kind) {
    case 'latest':
      return found(highest(versions, isPublic), 'no public version is published');
    case 'latestPrivate':
      if (!isOwner) return { ok: false, status: 403, reason: 'only the owner may call latestPrivate' };
      return found(highest(versions, () => true), 'no version is published');
    case 'major':
      return found(highest(versions, (v) => isPublic(v) && v.semver.major === spec.major), `no public ${spec.major}.x.y version`);
    case 'minor':
      return found(
        highest(versions, (v) => isPublic(v) && v.semver.major === spec.major && v.semver.minor === spec.minor),
        `no public ${spec.major}.${spec.minor}.y version`,
      );
    case 'exact': {
      const v = versions.find((x) => compareSemver(x.semver, spec.version) === 0);
      if (!v) return { ok: false, status: 404, reason: `version ${formatSemver(spec.version)} does not exist` };
      if (!isPublic(v) && !isOwner) return { ok: false, status: 403, reason: `version ${formatSemver(spec.version)} is private; only the owner may call it` };
      return { ok: true, version: fromPublished(v) };
    }
    case 'hash':
      if (!isOwner) return { ok: false, status: 403, reason: 'only the owner may call a build by its hash' };
      if (!build || build.commitSha !== spec.hash) return { ok: false, status: 404, reason: `no build with hash ${spec.hash}` };
      if (build.status !== 'succeeded') return { ok: false, status: 404, reason: `build ${spec.hash} has status ${build.status}` };
      if (build.published) return { ok: true, version: fromPublished(build.published) };
      return { ok: true, version: { buildId: build.buildId, commitSha: build.commitSha, insightsEnabled: false } };
  }
}
