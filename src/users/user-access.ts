import type { Request } from 'express';
import { type ApiError, ErrorCode, forbidden, notFound } from '../platform/errors';
import type { User, UserStore } from './user-store';

export interface UserRoutesDeps {
  store: UserStore;
  baseUrl: () => string;
  /** Drops this replica's cached lookups of keys that stopped working (revoked, rotated, user deleted). */
  forgetKeys: (keyHashes: readonly string[]) => void;
}

export const userNotFound = (name: string): ApiError => notFound(`User '${name}' was not found.`, ErrorCode.UserNotFound);

export async function userNamed(store: UserStore, name: string): Promise<User> {
  const user = await store.findUser(name);
  if (!user) throw userNotFound(name);
  return user;
}

/**
 * The user named in the path, when the caller may act on their account: the user themselves (any of
 * their keys or a token) or an admin key. Another user gets 403 whether or not the name exists.
 */
export async function accountOf(req: Request, store: UserStore): Promise<User> {
  const p = req.principal!;
  const name = String(req.params.username);
  if (p.keyType !== 'PlatformAdminKey' && p.username.toLowerCase() !== name.toLowerCase()) {
    throw forbidden('Only the user themselves or an admin key may do this.');
  }
  return userNamed(store, name);
}

/**
 * Whether the caller may list, revoke or rotate this user's keys (accountOf has already checked the
 * user). An admin key or a token may; a standard key only when it holds the user's full rights
 * (allow_algo, allow_algo_management and algo://*), or for itself alone. Otherwise a call-only or
 * ACL-restricted key could rotate a broader key and read its new secret.
 */
export function requireKeyManagement(req: Request, targetKeyId?: string): void {
  const p = req.principal!;
  if (p.keyType !== 'AlgorithmKey') return;
  const full = p.allowAlgo && p.allowAlgoManagement && p.algoAcl.includes('algo://*');
  if (full || (targetKeyId !== undefined && p.keyId === targetKeyId.toLowerCase())) return;
  throw forbidden(
    targetKeyId === undefined
      ? "Listing keys needs a key with the user's full rights (allow_algo, allow_algo_management, algo://*) or an admin key."
      : "A key with fewer than the user's full rights may revoke or rotate only itself.",
  );
}
