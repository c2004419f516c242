import type { Knex } from 'knex';
import { type BuildView, selectBuildViews, toBuildView } from './build-model';
import type { VersionSnapshot } from './version-model';
import type { Db } from '../platform/db';
import type { AlgorithmSettings, Callability, Details } from './algorithm-store';
import type { SemVer } from './semver';

/** What a publish sees, read inside its transaction with the algorithm row locked. */
export interface PublishState {
  details: Details;
  settings: AlgorithmSettings;
  /** The newest successful build, with its version when it was already published. */
  latest?: BuildView;
  /** The highest semantic version published so far. */
  highest?: SemVer;
}

/** What a publish writes: the version's immutable snapshot. */
export type PublishPlan = VersionSnapshot;

export interface VersionFilter {
  published?: boolean;
  callable?: boolean;
  /** Unpublished builds count as callable when the algorithm itself currently is. */
  algorithmCallability: Callability;
}

/** Published versions. Rows are never updated: a version is a snapshot. */
export class VersionStore {
  constructor(private readonly db: Db) {}

  /**
   * Runs `plan` on the locked state and writes what it decides: the version row, and the algorithm's
   * settings and details (which show what was published last). The lock serialises publishes of one
   * algorithm, so two never read the same highest version; the unique indexes are the backstop.
   * Undefined when the algorithm no longer exists.
   */
  async publish(algorithmId: string, plan: (s: PublishState) => PublishPlan): Promise<BuildView | undefined> {
    const buildId = await this.db.transaction(async (trx) => {
      const algo = await trx('algorithms').where({ id: algorithmId }).forUpdate().first('details', 'settings');
      if (!algo) return undefined; // deleted meanwhile
      const latestRow = await selectBuildViews(trx)
        .where('b.algorithm_id', algorithmId)
        .where('b.status', 'succeeded')
        .orderBy('b.seq', 'desc')
        .first();
      const top = await trx('versions')
        .where({ algorithm_id: algorithmId })
        .orderBy([{ column: 'major', order: 'desc' }, { column: 'minor', order: 'desc' }, { column: 'revision', order: 'desc' }])
        .first('major', 'minor', 'revision');
      const latest = latestRow ? toBuildView(latestRow) : undefined;
      const p = plan({
        details: algo.details,
        settings: algo.settings,
        latest,
        highest: top ? { major: top.major, minor: top.minor, revision: top.revision } : undefined,
      });
      if (!latest) throw new Error('publish plan accepted an algorithm without a successful build');
      await trx('versions').insert({
        algorithm_id: algorithmId,
        build_id: latest.build.id,
        major: p.semver.major,
        minor: p.semver.minor,
        revision: p.semver.revision,
        algorithm_callability: p.callability,
        insights_enabled: p.insightsEnabled,
        details: p.details,
        settings: p.settings,
        release_notes: p.releaseNotes,
        sample_input: p.sampleInput,
      });
      await trx('algorithms').where({ id: algorithmId }).update({ details: p.details, settings: p.settings, updated_at: trx.fn.now() });
      return latest.build.id;
    });
    return buildId ? toBuildView(await selectBuildViews(this.db).where('b.id', buildId).first()) : undefined;
  }

  /** Successful builds, newest first, limit + 1 rows before the given build seq. */
  async list(algorithmId: string, filter: VersionFilter, limit: number, beforeSeq?: string): Promise<BuildView[]> {
    const q = selectBuildViews(this.db)
      .where('b.algorithm_id', algorithmId)
      .where('b.status', 'succeeded')
      .orderBy('b.seq', 'desc')
      .limit(limit + 1);
    if (beforeSeq !== undefined) q.where('b.seq', '<', beforeSeq);
    if (filter.published === true) q.whereNotNull('v.id');
    if (filter.published === false) q.whereNull('v.id');
    if (filter.callable !== undefined) {
      const wanted: Callability = filter.callable ? 'public' : 'private';
      const unpublishedMatch = filter.algorithmCallability === wanted;
      q.where((w: Knex.QueryBuilder) => {
        w.where((v: Knex.QueryBuilder) => v.whereNotNull('v.id').where('v.algorithm_callability', wanted));
        if (unpublishedMatch) w.orWhereNull('v.id');
      });
    }
    return (await q).map(toBuildView);
  }

  async findBySemver(algorithmId: string, v: SemVer): Promise<BuildView | undefined> {
    const row = await selectBuildViews(this.db)
      .where('b.algorithm_id', algorithmId)
      .where({ 'v.major': v.major, 'v.minor': v.minor, 'v.revision': v.revision })
      .first();
    return row ? toBuildView(row) : undefined;
  }
}
