import type { AlgorithmSettings, Callability, Details } from './algorithm-store';
import type { SemVer } from './semver';
import type { Db } from '../platform/db';

// Builds (compiled snapshots of the source) and versions (published builds) as the stores return them.
// A version is a build with a semantic version; many reads want both, so they share one row shape.

export type BuildStatus = 'in-progress' | 'succeeded' | 'failed';

export interface Build {
  id: string;
  /** Global insertion order (bigint as a string): the paging position of builds and versions. */
  seq: string;
  algorithmId: string;
  commitSha: string;
  status: BuildStatus;
  language: string;
  logs: string;
  startedAt: Date;
  finishedAt: Date | null;
}

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

/** Immutable once written. */
export interface Version extends VersionSnapshot {
  id: string;
  buildId: string;
  publishedAt: Date;
}

export interface BuildView {
  build: Build;
  version?: Version;
}

type Row = Record<string, any>;

/** builds b LEFT JOIN versions v, without the (large) file snapshot. */
export function selectBuildViews(db: Db) {
  return db('builds as b')
    .leftJoin('versions as v', 'v.build_id', 'b.id')
    .select(
      'b.id', 'b.seq', 'b.algorithm_id', 'b.commit_sha', 'b.status', 'b.language', 'b.logs', 'b.started_at', 'b.finished_at',
      'v.id as v_id', 'v.major', 'v.minor', 'v.revision', 'v.algorithm_callability', 'v.insights_enabled',
      'v.details as v_details', 'v.settings as v_settings', 'v.release_notes', 'v.sample_input', 'v.published_at',
    );
}

export const toBuild = (r: Row): Build => ({
  id: r.id,
  seq: String(r.seq),
  algorithmId: r.algorithm_id,
  commitSha: r.commit_sha,
  status: r.status,
  language: r.language,
  logs: r.logs,
  startedAt: r.started_at,
  finishedAt: r.finished_at,
});

export function toBuildView(r: Row): BuildView {
  const build = toBuild(r);
  if (!r.v_id) return { build };
  return {
    build,
    version: {
      id: r.v_id,
      buildId: r.id,
      semver: { major: r.major, minor: r.minor, revision: r.revision },
      callability: r.algorithm_callability,
      insightsEnabled: r.insights_enabled,
      details: r.v_details,
      settings: r.v_settings,
      releaseNotes: r.release_notes,
      sampleInput: r.sample_input,
      publishedAt: r.published_at,
    },
  };
}
