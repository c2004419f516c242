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
  createdAt: Date;
}

export interface NewApiKey extends KeyGrant {
  userId: string;
  keyHash: string;
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
  createdAt: r.created_at,
});

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
      })
      .returning('*');
    return toKey(row);
  }

  async countKeys(keyType: KeyType): Promise<number> {
    const row = await this.db('api_keys').where({ key_type: keyType }).count<{ count: string }[]>('* as count').first();
    return Number(row?.count ?? 0);
  }

  async keyHashExists(keyHash: string): Promise<boolean> {
    return (await this.db('api_keys').where({ key_hash: keyHash }).first('id')) !== undefined;
  }

  async findByKeyHash(keyHash: string): Promise<Principal | undefined> {
    const row = await this.db('api_keys as k')
      .join('users as u', 'u.id', 'k.user_id')
      .where('k.key_hash', keyHash)
      .first('u.id as user_id', 'u.username', 'k.key_type', 'k.allow_algo', 'k.allow_algo_management', 'k.algo_acl');
    if (!row) return undefined;
    return {
      userId: row.user_id,
      username: row.username,
      keyType: row.key_type,
      allowAlgo: row.allow_algo,
      allowAlgoManagement: row.allow_algo_management,
      algoAcl: row.algo_acl,
    };
  }

  /** A bearer token (JWT) stands for its user with a standard key's full rights. */
  async findByUsername(username: string): Promise<Principal | undefined> {
    const user = await this.findUser(username);
    if (!user) return undefined;
    return { userId: user.id, username: user.username, keyType: 'Jwt', allowAlgo: true, allowAlgoManagement: true, algoAcl: ['algo://*'] };
  }
}
