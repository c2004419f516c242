import type { AlgorithmSettings, Callability, Details } from './algorithm-store';
import type { SemVer } from './semver';

// The one shape of a version (a published build), shared by the management API and by execution
// (.dependency-cruiser.cjs INTERFACES), with the one mapping from its database row. Pure types and
// functions: no SQL, and nothing from execution. Each store writes its own query but selects the
// row keys below (the column names, `version_id` for versions.id), and maps them with toVersion /
// toVersionRef. decisions.md 40.

export type BuildStatus = 'in-progress' | 'succeeded' | 'failed';

/** The part of a version chosen at publish time; settings and details are a snapshot. */
export interface VersionSnapshot {
  semver: SemVer;
  callability: Callability;
  insightsEnabled: boolean;
  details: Details;
  settings: AlgorithmSettings;
  releaseNotes: string;
  sampleInput: string | null;
}

/** A published build. Immutable once written (so is its build's commit). */
export interface Version extends VersionSnapshot {
  id: string;
  buildId: string;
  /** The commit of its build: `/v1/algo/.../<hash>` and `version_info.git_hash` name a version by it. */
  commitSha: string;
  publishedAt: Date;
}

/** What choosing and running a version needs (execution's hot path reads no more than this). */
export type VersionRef = Pick<Version, 'buildId' | 'commitSha' | 'semver' | 'callability' | 'insightsEnabled'>;

/** versions v JOIN builds b ON b.id = v.build_id, as the row keys a VersionRef is read from. */
export interface VersionRefRow {
  build_id: string;
  commit_sha: string; // b.commit_sha
  major: number;
  minor: number;
  revision: number;
  algorithm_callability: Callability;
  insights_enabled: boolean;
}

/** The whole version row; `version_id` is versions.id (builds.id is the usual `id` of a join). */
export interface VersionRow extends VersionRefRow {
  version_id: string;
  details: Details;
  settings: AlgorithmSettings;
  release_notes: string;
  sample_input: string | null;
  published_at: Date;
}

export const toVersionRef = (r: VersionRefRow): VersionRef => ({
  buildId: r.build_id,
  commitSha: r.commit_sha,
  semver: { major: r.major, minor: r.minor, revision: r.revision },
  callability: r.algorithm_callability,
  insightsEnabled: r.insights_enabled,
});

export const toVersion = (r: VersionRow): Version => ({
  ...toVersionRef(r),
  id: r.version_id,
  details: r.details,
  settings: r.settings,
  releaseNotes: r.release_notes,
  sampleInput: r.sample_input,
  publishedAt: r.published_at,
});
