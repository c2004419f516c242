import { randomUUID } from 'node:crypto';

export const newRequestId = (): string => `req-${randomUUID()}`;
export const newSessionId = (): string => `rses-${randomUUID()}`;

export const UUID_PATTERN = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
/** A commit/build hash as callers may type it; stored lower-case. */
export const GIT_HASH_PATTERN = /^[0-9a-fA-F]{40}$/;
export const isGitHash = (s: string): boolean => GIT_HASH_PATTERN.test(s);
