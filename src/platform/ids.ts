import { randomUUID } from 'node:crypto';

export const newRequestId = (): string => `req-${randomUUID()}`;
export const newSessionId = (): string => `rses-${randomUUID()}`;

export const UUID_PATTERN = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
export const NAME_PATTERN = /^[a-zA-Z][a-zA-Z0-9_]*$/;
/** A commit/build hash as callers may type it; stored lower-case. */
export const GIT_HASH_PATTERN = /^[0-9a-fA-F]{40}$/;
