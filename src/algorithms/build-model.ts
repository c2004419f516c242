import type { Db } from '../platform/db';
import { type BuildStatus, toVersion, type Version, type VersionRow } from './version-model';

// Builds (compiled snapshots of the source) as the management stores return them, each with its
// version when it was published (the version itself is version-model.ts). Many reads want both, so
// they share one query.

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

export interface BuildView {
  build: Build;
  version?: Version;
}

type Row = Record<string, any>;

/** builds b LEFT JOIN versions v, without the (large) file snapshot; version columns as VersionRow names them. */
export function selectBuildViews(db: Db) {
  return db('builds as b')
    .leftJoin('versions as v', 'v.build_id', 'b.id')
    .select(
      'b.id', 'b.seq', 'b.algorithm_id', 'b.commit_sha', 'b.status', 'b.language', 'b.logs', 'b.started_at', 'b.finished_at',
      'v.id as version_id', 'v.build_id', 'v.major', 'v.minor', 'v.revision', 'v.algorithm_callability', 'v.insights_enabled',
      'v.details', 'v.settings', 'v.release_notes', 'v.sample_input', 'v.published_at',
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
  return r.version_id ? { build, version: toVersion(r as VersionRow) } : { build };
}
