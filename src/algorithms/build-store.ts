import type { SourceFiles } from '../platform/source-tree';
import type { Db } from '../platform/db';
import { UUID_PATTERN } from '../platform/ids';
import { type BuildView, selectBuildViews, toBuildView } from './build-model';
import type { BuildStatus } from './version-model';

export interface StartedBuild {
  view: BuildView;
  files: SourceFiles;
}

/** Builds of an algorithm. find*() return undefined when absent (a malformed id is simply absent). */
export class BuildStore {
  constructor(private readonly db: Db) {}

  /**
   * Snapshots the current source into a new in-progress build. The algorithm row is locked so that
   * concurrent compiles see each other's commits: each gets the previous one as its parent.
   * Undefined when the algorithm no longer exists.
   */
  async start(algorithmId: string, language: string, commitSha: (files: SourceFiles, parentSha: string | undefined) => string): Promise<StartedBuild | undefined> {
    const started = await this.db.transaction(async (trx) => {
      if (!(await trx('algorithms').where({ id: algorithmId }).forUpdate().first('id'))) return undefined;
      const source = await trx('algorithm_sources').where({ algorithm_id: algorithmId }).first('files');
      const snapshot: SourceFiles = source?.files ?? {};
      const parent = await trx('builds').where({ algorithm_id: algorithmId }).orderBy('seq', 'desc').first('commit_sha');
      const [row] = await trx('builds')
        .insert({
          algorithm_id: algorithmId,
          commit_sha: commitSha(snapshot, parent?.commit_sha),
          status: 'in-progress',
          language,
          files: JSON.stringify(snapshot),
        })
        .returning('id');
      return { id: row.id as string, files: snapshot };
    });
    if (!started) return undefined;
    return { view: (await this.find(algorithmId, started.id))!, files: started.files };
  }

  async finish(id: string, status: Exclude<BuildStatus, 'in-progress'>, logs: string): Promise<void> {
    await this.db('builds').where({ id }).update({ status, logs, finished_at: this.db.fn.now() });
  }

  /** Every in-progress build becomes failed (only at start-up, before anything compiles). */
  async failInterrupted(logs: string): Promise<number> {
    return this.db('builds').where({ status: 'in-progress' }).update({ status: 'failed', logs, finished_at: this.db.fn.now() });
  }

  async find(algorithmId: string, buildId: string): Promise<BuildView | undefined> {
    if (!UUID_PATTERN.test(buildId)) return undefined;
    const row = await selectBuildViews(this.db).where('b.algorithm_id', algorithmId).where('b.id', buildId.toLowerCase()).first();
    return row ? toBuildView(row) : undefined;
  }

  async findByCommit(algorithmId: string, sha: string): Promise<BuildView | undefined> {
    const row = await selectBuildViews(this.db).where('b.algorithm_id', algorithmId).where('b.commit_sha', sha.toLowerCase()).first();
    return row ? toBuildView(row) : undefined;
  }

  async latest(algorithmId: string): Promise<BuildView | undefined> {
    const row = await selectBuildViews(this.db).where('b.algorithm_id', algorithmId).orderBy('b.seq', 'desc').first();
    return row ? toBuildView(row) : undefined;
  }

  /** Newest first: limit + 1 rows before the given seq. */
  async list(algorithmId: string, limit: number, beforeSeq?: string): Promise<BuildView[]> {
    const q = selectBuildViews(this.db).where('b.algorithm_id', algorithmId).orderBy('b.seq', 'desc').limit(limit + 1);
    if (beforeSeq !== undefined) q.where('b.seq', '<', beforeSeq);
    return (await q).map(toBuildView);
  }
}
