// The SQL execution needs, read-only: an algorithm with its published versions (one round trip),
// a build by commit hash, and a build's files. find* return undefined when nothing matches.
import type { Db } from '../platform/db';
import type { BuildCandidate, PublishedVersion } from './version-resolver';

export interface AlgorithmSnapshot {
  id: string;
  ownerId: string;
  owner: string; // canonical spelling of the owner's username
  name: string; // canonical spelling of the algorithm name
  language: string;
  networkAccess: 'isolated' | 'full'; // the algorithm's settings.network_access (default full)
  /** settings.pipeline_enabled: whether its code may call other algorithms (absent: true). */
  pipelineEnabled?: boolean;
  versions: PublishedVersion[];
}

export interface BuildFiles {
  language: string;
  files: Record<string, string>;
}

interface VersionJson {
  major: number;
  minor: number;
  revision: number;
  callability: 'public' | 'private';
  insights: boolean;
  build_id: string;
  commit_sha: string;
}

const SNAPSHOT_SELECT = `
  SELECT a.id, a.owner_id, u.username AS owner, a.name, a.language, a.settings->>'network_access' AS network_access,
    (a.settings->>'pipeline_enabled') IS DISTINCT FROM 'false' AS pipeline_enabled,
    COALESCE((
      SELECT json_agg(json_build_object(
        'major', v.major, 'minor', v.minor, 'revision', v.revision, 'callability', v.algorithm_callability,
        'insights', v.insights_enabled, 'build_id', v.build_id, 'commit_sha', b.commit_sha))
      FROM versions v JOIN builds b ON b.id = v.build_id
      WHERE v.algorithm_id = a.id
    ), '[]'::json) AS versions
  FROM algorithms a JOIN users u ON u.id = a.owner_id`;

const toVersion = (v: VersionJson): PublishedVersion => ({
  version: { major: v.major, minor: v.minor, revision: v.revision },
  callability: v.callability,
  insightsEnabled: v.insights,
  buildId: v.build_id,
  commitSha: v.commit_sha,
});

function toSnapshot(row: Record<string, unknown> | undefined): AlgorithmSnapshot | undefined {
  if (!row) return undefined;
  return {
    id: String(row.id),
    ownerId: String(row.owner_id),
    owner: String(row.owner),
    name: String(row.name),
    language: String(row.language),
    networkAccess: row.network_access === 'isolated' ? 'isolated' : 'full',
    pipelineEnabled: row.pipeline_enabled !== false,
    versions: (row.versions as VersionJson[]).map(toVersion),
  };
}

export class ExecutionStore {
  constructor(private readonly db: Db) {}

  /** Owner and name match case-insensitively, as the unique indexes do. */
  async findAlgorithm(owner: string, name: string): Promise<AlgorithmSnapshot | undefined> {
    const { rows } = await this.db.raw(`${SNAPSHOT_SELECT} WHERE lower(u.username) = lower(?) AND lower(a.name) = lower(?)`, [owner, name]);
    return toSnapshot(rows[0]);
  }

  async findAlgorithmById(id: string): Promise<AlgorithmSnapshot | undefined> {
    const { rows } = await this.db.raw(`${SNAPSHOT_SELECT} WHERE a.id = ?`, [id]);
    return toSnapshot(rows[0]);
  }

  async findBuildByHash(algorithmId: string, commitSha: string): Promise<BuildCandidate | undefined> {
    const { rows } = await this.db.raw(
      `SELECT b.id, b.commit_sha, b.status, v.major, v.minor, v.revision, v.algorithm_callability, v.insights_enabled
       FROM builds b LEFT JOIN versions v ON v.build_id = b.id
       WHERE b.algorithm_id = ? AND b.commit_sha = ?`,
      [algorithmId, commitSha],
    );
    const r = rows[0];
    if (!r) return undefined;
    const candidate: BuildCandidate = { buildId: r.id, commitSha: r.commit_sha, status: r.status };
    if (r.major !== null) {
      candidate.published = toVersion({
        major: r.major,
        minor: r.minor,
        revision: r.revision,
        callability: r.algorithm_callability,
        insights: r.insights_enabled,
        build_id: r.id,
        commit_sha: r.commit_sha,
      });
    }
    return candidate;
  }

  async findBuildFiles(buildId: string): Promise<BuildFiles | undefined> {
    const { rows } = await this.db.raw('SELECT language, files FROM builds WHERE id = ?', [buildId]);
    return rows[0] ? { language: rows[0].language, files: rows[0].files } : undefined;
  }
}
