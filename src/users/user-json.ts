import type { components } from '../generated/openapi-types';
import type { ApiKeyRecord, User } from './user-store';

// Reply bodies typed by the spec (src/generated, from openapi.yaml): a field the spec lacks or a
// missing required one does not compile.
type Schemas = components['schemas'];

export function userJson(u: User, base: string): Schemas['User'] {
  return {
    id: u.id,
    username: u.username,
    email: u.email,
    fullname: u.fullname,
    created_at: u.createdAt.toISOString(),
    resource_type: 'user',
    self_link: `${base}/v1/users/${u.username}`,
  };
}

/** A key as listings show it: everything but the key, which is never stored. */
export function keySummaryJson(k: ApiKeyRecord, u: User): Schemas['ApiKeySummary'] {
  return {
    id: k.id,
    username: u.username,
    owner_name: u.username,
    key_label: k.keyLabel,
    created_at: k.createdAt.toISOString(),
    expires_at: k.expiresAt?.toISOString() ?? null,
    last_used_at: k.lastUsedAt?.toISOString() ?? null,
    key_prefix: k.keyPrefix,
    api_key_mask: k.keyMask,
    key_type: k.keyType,
    permissions: {
      allow_algo: k.allowAlgo,
      allow_algo_management: k.allowAlgoManagement,
      algo_acl: k.algoAcl,
    },
  };
}

/** The reply that creates or rotates a key: the only time the key itself is returned. */
export const keyJson = (k: ApiKeyRecord, u: User, apiKey: string): Schemas['ApiKey'] => ({ ...keySummaryJson(k, u), api_key: apiKey });
