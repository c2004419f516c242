// The SQL execution needs, read-only: an algorithm with its published versions (one round trip),
// a build by commit hash, and a build's files. find* return undefined when nothing matches.
// Version rows carry the keys of VersionRefRow and go through toVersionRef (algorithms/version-model.ts),
// the mapping the management API uses too.
import type { Db } from '../platform/db';
import { toVersionRef, type VersionRef, type VersionRefRow } from '../algorithms/version-model';
import type { BuildCandidate } from './version-resolver';

export interface AlgorithmSnapshot {
  id: string;
  ownerId: string;
  owner: string; // canonical spelling of the owner's username
  name: string; // canonical spelling of the algorithm name
  language: string;
  networkAccess: 'isolated' | 'full'; // the algorithm's settings.network_access (default full)
  /** settings.pipeline_enabled: whether its code may call other algorithms (absent: true). */
  pipelineEnabled?: boolean;
  versions: VersionRef[];
}

export interface BuildFiles {
  language: string;
  files: Record<string, string>;
}

const SNAPSHOT_SELECT = `
  SELECT a.id, a.owner_id, u.username AS owner, a.name, a.language, a.settings->>'network_access' AS network_access,
    (a.settings->>'pipeline_enabled') IS DISTINCT FROM 'false' AS pipeline_enabled,
    COALESCE((
      SELECT json_agg(json_build_object(
        'build_id', v.build_id, 'commit_sha', b.commit_sha, 'major', v.major, 'minor', v.minor, 'revision', v.revision,
        'algorithm_callability', v.algorithm_callability, 'insights_enabled', v.insights_enabled))
      FROM versions v JOIN builds b ON b.id = v.build_id
      WHERE v.algorithm_id = a.id
    ), '[]'::json) AS versions
  FROM algorithms a JOIN users u ON u.id = a.owner_id`;

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
    versions: (row.versions as VersionRefRow[]).map(toVersionRef),
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
      `SELECT b.id, b.status, v.build_id, b.commit_sha, v.major, v.minor, v.revision, v.algorithm_callability, v.insights_enabled
       FROM builds b LEFT JOIN versions v ON v.build_id = b.id
       WHERE b.algorithm_id = ? AND b.commit_sha = ?`,
      [algorithmId, commitSha],
    );
    const r = rows[0];
    if (!r) return undefined;
    const candidate: BuildCandidate = { buildId: r.id, commitSha: r.commit_sha, status: r.status };
    if (r.build_id !== null) candidate.published = toVersionRef(r);
    return candidate;
  }

  async findBuildFiles(buildId: string): Promise<BuildFiles | undefined> {
    const { rows } = await this.db.raw('SELECT language, files FROM builds WHERE id = ?', [buildId]);
    return rows[0] ? { language: rows[0].language, files: rows[0].files } : undefined;
  }
}
