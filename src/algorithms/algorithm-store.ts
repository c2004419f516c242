import type { Knex } from 'knex';
import type { Language } from '../platform/language-catalogue';
import type { Db } from '../platform/db';
import type { SourceFiles } from '../platform/source-tree';

export type Callability = 'public' | 'private';

export interface Details {
  label: string;
  summary: string;
  tagline: string;
}

/** Kept as the API spells it: this document is what clients send and read back. */
export interface AlgorithmSettings {
  algorithm_callability: Callability;
  source_visibility: 'open' | 'closed';
  license: 'apl' | 'apache2' | 'gpl3' | 'mit';
  network_access: 'isolated' | 'full';
  pipeline_enabled: boolean;
  environment: 'cpu';
  royalty_microcredits: number;
  insights_enabled: boolean;
}

export interface Algorithm {
  id: string;
  ownerId: string;
  ownerName: string;
  name: string;
  language: Language;
  details: Details;
  settings: AlgorithmSettings;
  createdAt: Date;
  updatedAt: Date;
}

export interface NewAlgorithm {
  ownerId: string;
  name: string;
  language: Language;
  details: Details;
  settings: AlgorithmSettings;
}

type Row = Record<string, any>;

const toAlgorithm = (r: Row): Algorithm => ({
  id: r.id,
  ownerId: r.owner_id,
  ownerName: r.owner_name,
  name: r.name,
  language: r.language,
  details: r.details,
  settings: r.settings,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

/** Algorithms and their current source. find*() return undefined when absent; names are case-insensitive. */
export class AlgorithmStore {
  constructor(private readonly db: Db) {}

  private select(q: Knex = this.db) {
    return q('algorithms as a').join('users as u', 'u.id', 'a.owner_id').select('a.*', 'u.username as owner_name');
  }

  /** The algorithm and its first source in one transaction; the unique name index decides races (23505). */
  async create(a: NewAlgorithm, files: SourceFiles): Promise<Algorithm> {
    const id = await this.db.transaction(async (trx) => {
      const [row] = await trx('algorithms')
        .insert({ owner_id: a.ownerId, name: a.name, language: a.language, details: a.details, settings: a.settings })
        .returning('id');
      await trx('algorithm_sources').insert({ algorithm_id: row.id, files: JSON.stringify(files) });
      return row.id as string;
    });
    return (await this.findById(id))!;
  }

  async find(ownerId: string, name: string): Promise<Algorithm | undefined> {
    const row = await this.select().where('a.owner_id', ownerId).whereRaw('lower(a.name) = lower(?)', [name]).first();
    return row ? toAlgorithm(row) : undefined;
  }

  /** By the owner's username, for callers other than the owner (exists(), public algorithms). */
  async findByOwnerName(owner: string, name: string): Promise<Algorithm | undefined> {
    const row = await this.select().whereRaw('lower(u.username) = lower(?)', [owner]).whereRaw('lower(a.name) = lower(?)', [name]).first();
    return row ? toAlgorithm(row) : undefined;
  }

  async findById(id: string): Promise<Algorithm | undefined> {
    const row = await this.select().where('a.id', id).first();
    return row ? toAlgorithm(row) : undefined;
  }

  /** limit + 1 rows ordered by lower(name), after the given lower-cased name. */
  async listByOwner(ownerId: string, limit: number, afterName?: string): Promise<Algorithm[]> {
    const q = this.select().where('a.owner_id', ownerId).orderByRaw('lower(a.name)').limit(limit + 1);
    if (afterName !== undefined) q.whereRaw('lower(a.name) > ?', [afterName]);
    return (await q).map(toAlgorithm);
  }

  async update(id: string, changes: { details: Details; settings: AlgorithmSettings }): Promise<Algorithm | undefined> {
    const n = await this.db('algorithms').where({ id }).update({ details: changes.details, settings: changes.settings, updated_at: this.db.fn.now() });
    return n === 0 ? undefined : this.findById(id);
  }

  /** Builds and versions go with it (ON DELETE CASCADE). */
  async delete(id: string): Promise<boolean> {
    return (await this.db('algorithms').where({ id }).del()) > 0;
  }

  async getSource(id: string): Promise<{ files: SourceFiles; updatedAt: Date } | undefined> {
    const row = await this.db('algorithm_sources').where({ algorithm_id: id }).first();
    return row ? { files: row.files, updatedAt: row.updated_at } : undefined;
  }

  /** Every algorithm has a source row from its creation; undefined when the algorithm is gone. */
  async replaceSource(id: string, files: SourceFiles): Promise<{ files: SourceFiles; updatedAt: Date } | undefined> {
    const [row] = await this.db('algorithm_sources')
      .where({ algorithm_id: id })
      .update({ files: JSON.stringify(files), updated_at: this.db.fn.now() })
      .returning('*');
    return row ? { files: row.files, updatedAt: row.updated_at } : undefined;
  }
}
