import type { Db } from '../platform/db';
import type { KeyType, Principal, PrincipalLookup } from '../platform/auth';

export interface User {
  id: string;
  username: string;
  email: string | null;
  fullname: string | null;
  createdAt: Date;
}

/** What a key allows; the key itself is never stored, only its hash. */
interface KeyGrant {
  keyMask: string;
  keyLabel: string;
  keyType: KeyType;
  allowAlgo: boolean;
  allowAlgoManagement: boolean;
  algoAcl: string[];
}

export interface ApiKeyRecord extends KeyGrant {
  id: string;
  userId: string;
  keyPrefix: string | null;
  createdAt: Date;
  expiresAt: Date | null;
  lastUsedAt: Date | null;
}

export interface NewApiKey extends KeyGrant {
  userId: string;
  keyHash: string;
  keyPrefix?: string;
  expiresAt?: Date;
}

/** A key's new secret: what rotation writes in place of the old hash. */
export interface KeySecret {
  keyHash: string;
  keyMask: string;
  keyPrefix: string;
}

type Row = Record<string, any>;

const toUser = (r: Row): User => ({
  id: r.id,
  username: r.username,
  email: r.email,
  fullname: r.fullname,
  createdAt: r.created_at,
});

const toKey = (r: Row): ApiKeyRecord => ({
  id: r.id,
  userId: r.user_id,
  keyMask: r.key_mask,
  keyLabel: r.key_label,
  keyType: r.key_type,
  allowAlgo: r.allow_algo,
  allowAlgoManagement: r.allow_algo_management,
  algoAcl: r.algo_acl,
  keyPrefix: r.key_prefix ?? null,
  createdAt: r.created_at,
  expiresAt: r.expires_at ?? null,
  lastUsedAt: r.last_used_at ?? null,
});

// A key still counts while it has no expiry or its expiry is in the future (the database's clock decides).
const LIVE = '(k.expires_at IS NULL OR k.expires_at > now())';

/** Users and API keys. find*() return undefined when absent; inserts let unique indexes decide races. */
export class UserStore implements PrincipalLookup {
  constructor(private readonly db: Db) {}

  async createUser(u: { username: string; email?: string; fullname?: string }): Promise<User> {
    const [row] = await this.db('users')
      .insert({ username: u.username, email: u.email ?? null, fullname: u.fullname ?? null })
      .returning('*');
    return toUser(row);
  }

  async findUser(username: string): Promise<User | undefined> {
    const row = await this.db('users').whereRaw('lower(username) = lower(?)', [username]).first();
    return row ? toUser(row) : undefined;
  }

  async createKey(k: NewApiKey): Promise<ApiKeyRecord> {
    const [row] = await this.db('api_keys')
      .insert({
        user_id: k.userId,
        key_hash: k.keyHash,
        key_mask: k.keyMask,
        key_label: k.keyLabel,
        key_type: k.keyType,
        allow_algo: k.allowAlgo,
        allow_algo_management: k.allowAlgoManagement,
        algo_acl: k.algoAcl,
        key_prefix: k.keyPrefix ?? null,
        expires_at: k.expiresAt ?? null,
      })
      .returning('*');
    return toKey(row);
  }

  /** Users in username order, after `after` (exclusive), at most `limit`. */
  async listUsers(limit: number, after?: string): Promise<User[]> {
    const q = this.db('users').orderByRaw('lower(username)').limit(limit);
    if (after !== undefined) q.whereRaw('lower(username) > lower(?)', [after]);
    return (await q).map(toUser);
  }

  /** Deletes a user; the database cascades to their keys and algorithms. Returns the hashes of the keys that went with them. */
  async deleteUser(userId: string): Promise<string[] | undefined> {
    return this.db.transaction(async (trx) => {
      const hashes = (await trx('api_keys').where({ user_id: userId }).select('key_hash')).map((r) => r.key_hash as string);
      const deleted = await trx('users').where({ id: userId }).delete();
      return deleted === 0 ? undefined : hashes;
    });
  }

  async listKeys(userId: string): Promise<ApiKeyRecord[]> {
    return (await this.db('api_keys').where({ user_id: userId }).orderBy([{ column: 'created_at' }, { column: 'id' }])).map(toKey);
  }

  /** Revokes (deletes) a key of this user; returns its hash so caches can forget it, undefined when absent. */
  async deleteKey(userId: string, keyId: string): Promise<string | undefined> {
    const [row] = await this.db('api_keys').where({ user_id: userId, id: keyId }).delete().returning('key_hash');
    return row?.key_hash;
  }

  /** Replaces a key's secret in one statement: the old secret stops matching when it commits. */
  async rotateKey(userId: string, keyId: string, next: KeySecret): Promise<{ key: ApiKeyRecord; oldHash: string } | undefined> {
    // In UPDATE ... FROM, the joined copy of the row still holds the values from before the update.
    const { rows } = await this.db.raw(
      `UPDATE api_keys k SET key_hash = ?, key_mask = ?, key_prefix = ?, last_used_at = NULL
         FROM api_keys old
        WHERE old.id = k.id AND k.id = ? AND k.user_id = ?
       RETURNING k.*, old.key_hash AS old_hash`,
      [next.keyHash, next.keyMask, next.keyPrefix, keyId, userId],
    );
    const row = rows[0];
    return row ? { key: toKey(row), oldHash: row.old_hash } : undefined;
  }

  async countKeys(keyType: KeyType): Promise<number> {
    const row = await this.db('api_keys').where({ key_type: keyType }).count<{ count: string }[]>('* as count').first();
    return Number(row?.count ?? 0);
  }

  async keyHashExists(keyHash: string): Promise<boolean> {
    return (await this.db('api_keys').where({ key_hash: keyHash }).first('id')) !== undefined;
  }

  /**
   * The principal of a live (unexpired) key. Also records when the key was last used, at most once a
   * minute per key, in the same statement (a cache miss costs one round trip, not two).
   */
  async findByKeyHash(keyHash: string): Promise<Principal | undefined> {
    const { rows } = await this.db.raw(
      `WITH k AS (
         SELECT k.id, k.last_used_at, k.expires_at, u.id AS user_id, u.username, k.key_type, k.allow_algo, k.allow_algo_management, k.algo_acl
           FROM api_keys k JOIN users u ON u.id = k.user_id
          WHERE k.key_hash = ? AND ${LIVE}
       ), touched AS (
         UPDATE api_keys SET last_used_at = now()
          WHERE id IN (SELECT id FROM k WHERE last_used_at IS NULL OR last_used_at < now() - interval '60 seconds')
       )
       SELECT * FROM k`,
      [keyHash],
    );
    const row = rows[0];
    if (!row) return undefined;
    return {
      userId: row.user_id,
      username: row.username,
      keyType: row.key_type,
      allowAlgo: row.allow_algo,
      allowAlgoManagement: row.allow_algo_management,
      algoAcl: row.algo_acl,
      expiresAt: row.expires_at ?? undefined,
      keyId: row.id,
    };
  }

  /** A bearer token (JWT) stands for its user with a standard key's full rights. */
  async findByUsername(username: string): Promise<Principal | undefined> {
    const user = await this.findUser(username);
    if (!user) return undefined;
    return { userId: user.id, username: user.username, keyType: 'Jwt', allowAlgo: true, allowAlgoManagement: true, algoAcl: ['algo://*'] };
  }
}
