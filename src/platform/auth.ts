import { createHash, randomBytes } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { forbidden, unauthenticated } from './errors';

export type KeyType = 'AlgorithmKey' | 'PlatformAdminKey';

/** Who is calling, resolved once per request from the Authorization header. */
export interface Principal {
  userId: string;
  username: string;
  keyType: KeyType | 'Jwt';
  allowAlgo: boolean;
  allowAlgoManagement: boolean;
  algoAcl: string[];
  /** A key with an expiry stops working then, cache or not. */
  expiresAt?: Date;
  /** The API key's id (absent for tokens). */
  keyId?: string;
}

/**
 * Visible on every route line: who may call it. `account`: any authenticated caller, admin keys
 * included; the handler then decides whose account it may touch (its own, or any for an admin).
 */
export type AuthLevel = 'public' | 'algo' | 'manage' | 'account' | 'admin';

export interface PrincipalLookup {
  findByKeyHash(keyHash: string): Promise<Principal | undefined>;
  findByUsername(username: string): Promise<Principal | undefined>;
}

export interface JwtConfig {
  secret?: string;
  publicKey?: string;
  algorithms: string[];
  issuer?: string;
  audience?: string;
  /** Tokens must carry `exp`, and exp - iat (or exp - now without iat) may not exceed this. */
  maxLifetimeS: number;
}

const BASE62 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** Algorithmia keys start with "sim". 28 base62 characters carry ~166 bits. */
export function generateApiKey(): string {
  const bytes = randomBytes(28);
  let out = 'sim';
  for (const b of bytes) out += BASE62[b % 62];
  return out;
}

/** Keys are long random strings, so a fast hash is enough: nothing to brute-force. */
export const hashApiKey = (key: string): string => createHash('sha256').update(key).digest('hex');
export const maskApiKey = (key: string): string => `${key.slice(0, 3)}${'*'.repeat(8)}${key.slice(-4)}`;
/** What an operator recognises a key by in listings: "sim" and five more characters (~30 of its ~166 bits). */
export const apiKeyPrefix = (key: string): string => key.slice(0, 8);

/** The three header forms the official clients send: `Simple <key>`, the bare key, `Bearer <jwt>`. */
export function parseAuthorization(header: string | undefined): { kind: 'key' | 'jwt'; value: string } | undefined {
  if (!header) return undefined;
  const trimmed = header.trim();
  const m = /^(Simple|Bearer)\s+(\S+)$/i.exec(trimmed);
  if (m) return { kind: m[1].toLowerCase() === 'bearer' ? 'jwt' : 'key', value: m[2] };
  if (/^\S+$/.test(trimmed)) return { kind: 'key', value: trimmed };
  return undefined;
}

/**
 * Resolves the Authorization header. Key lookups (found or not) are cached per key hash for
 * cacheTtlMs: a revoked or rotated key is refused at once by the replica that revoked it (forget())
 * and by every other replica within cacheTtlMs (docs/operations.md).
 */
export class Authenticator {
  private readonly cache = new Map<string, { principal: Principal | undefined; expires: number }>();

  constructor(
    private readonly lookup: PrincipalLookup,
    private readonly jwtConfig: JwtConfig | undefined,
    private readonly cacheTtlMs = 2_000,
  ) {}

  /** Drops cached lookups of these key hashes (after a revoke, rotation or user deletion on this replica). */
  forget(keyHashes: readonly string[]): void {
    for (const h of keyHashes) this.cache.delete(h);
  }

  async authenticate(header: string | undefined): Promise<Principal | undefined> {
    const parsed = parseAuthorization(header);
    if (!parsed) {
      if (header !== undefined && header.trim() !== '') throw unauthenticated('Malformed Authorization header');
      return undefined;
    }
    if (parsed.kind === 'jwt') return this.fromJwt(parsed.value);
    const keyHash = hashApiKey(parsed.value);
    const hit = this.cache.get(keyHash);
    if (hit && hit.expires > Date.now()) return orInvalid(hit.principal);
    const principal = await this.lookup.findByKeyHash(keyHash);
    if (this.cache.size > 10_000) this.cache.clear();
    const expires = Math.min(Date.now() + this.cacheTtlMs, principal?.expiresAt?.getTime() ?? Infinity);
    this.cache.set(keyHash, { principal, expires });
    return orInvalid(principal);
  }

  private async fromJwt(token: string): Promise<Principal> {
    if (!this.jwtConfig) throw unauthenticated('Bearer tokens are not enabled on this cluster');
    let claims: jwt.JwtPayload;
    try {
      claims = jwt.verify(token, (this.jwtConfig.secret ?? this.jwtConfig.publicKey) as string, {
        algorithms: this.jwtConfig.algorithms as jwt.Algorithm[],
        issuer: this.jwtConfig.issuer,
        audience: this.jwtConfig.audience,
      }) as jwt.JwtPayload;
    } catch (err) {
      throw unauthenticated(`Invalid bearer token: ${(err as Error).message}`);
    }
    if (typeof claims.exp !== 'number') throw unauthenticated('Invalid bearer token: no exp claim');
    const issuedAt = typeof claims.iat === 'number' ? claims.iat : Math.floor(Date.now() / 1000);
    if (claims.exp - issuedAt > this.jwtConfig.maxLifetimeS) {
      throw unauthenticated(`Invalid bearer token: it may live at most ${this.jwtConfig.maxLifetimeS} s (exp - iat)`);
    }
    const username = typeof claims.sub === 'string' ? claims.sub : undefined;
    if (!username) throw unauthenticated('Invalid bearer token: no sub claim');
    const principal = await this.lookup.findByUsername(username);
    if (!principal) throw unauthenticated('Invalid bearer token: unknown user');
    return principal;
  }
}

function orInvalid(p: Principal | undefined): Principal {
  if (!p) throw unauthenticated('Unknown or invalid API key.');
  return p;
}

/** Checks the route's level; 401 when nobody is calling, 403 when the caller may not. */
export function requireLevel(level: AuthLevel, principal: Principal | undefined): void {
  if (level === 'public') return;
  if (!principal) throw unauthenticated();
  if (level === 'account') return;
  if (level === 'admin') {
    if (principal.keyType !== 'PlatformAdminKey') throw forbidden('This endpoint needs a PlatformAdminKey.');
    return;
  }
  if (principal.keyType === 'PlatformAdminKey') {
    throw forbidden('Admin API keys may only call admin endpoints.');
  }
  if (level === 'algo' && !principal.allowAlgo) throw forbidden('This API key may not call algorithms (allow_algo is false).');
  if (level === 'manage' && !principal.allowAlgoManagement) {
    throw forbidden('This API key may not manage algorithms (allow_algo_management is false).');
  }
}

/** algo_acl patterns: algo://*, algo://owner/*, algo://owner/name/* ; an empty list calls nothing (as Algorithmia). */
export function aclAllows(principal: Principal, owner: string, name: string): boolean {
  if (principal.keyType === 'Jwt') return true;
  return principal.algoAcl.some((p) => {
    if (p === 'algo://*') return true;
    const m = /^algo:\/\/([^/]+)\/(?:([^/]+)\/)?\*$/.exec(p);
    if (!m) return false;
    if (m[1].toLowerCase() !== owner.toLowerCase()) return false;
    return m[2] === undefined || m[2].toLowerCase() === name.toLowerCase();
  });
}

declare module 'express-serve-static-core' {
  interface Request {
    principal?: Principal;
    requestId: string;
  }
}
