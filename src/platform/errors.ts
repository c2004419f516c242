// One error class and one body shape for the whole API: {"error": {"id", "code", "message", "details"?}}.
// Codes are Algorithmia's (reference/algorithmia-api.md section 1.4).
import type { components } from '../generated/openapi-types';

export const ErrorCode = {
  AlgorithmNotFound: 1000,
  AlgorithmNameHasBeenTaken: 1002,
  VersionAlreadyPublished: 1007,
  AlgorithmBuildNotFound: 1010,
  AlgorithmBuildLogsNotFound: 1011,
  VersionDoesNotExist: 1014,
  NotAuthorized: 2001,
  NotAuthenticated: 2002,
  MalformedJson: 2013,
  InvalidRequest: 2015,
  UserNotFound: 3000,
  UsernameHasBeenTaken: 3002,
  // Beacon's own (Algorithmia has no key routes): an API key id that this user does not have.
  ApiKeyNotFound: 3100,
  UnknownAlgorithmLanguage: 4001,
  InternalServerError: 5001,
  InvalidMarker: 5002,
  InvalidLimit: 5003,
  ConfigEntryNotFound: 5004,
  ServiceUnavailable: 5006,
  TooManyRequests: 5007,
  InputValidationError: 6001,
  PayloadTooLarge: 6002,
  UnsupportedMediaType: 6003,
} as const;

/** One field of a refused request (openapi.yaml Error.error.details). */
export type FieldDetail = NonNullable<components['schemas']['Error']['error']['details']>[number];

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: number,
    message: string,
    readonly details?: FieldDetail[],
    /** When set, sent instead of the object form (Algorithmia's `{"error":"No such algorithm"}`). */
    readonly plainBody?: unknown,
    /** Response headers that belong to the error (Retry-After on a 429). */
    readonly headers?: Record<string, string>,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export const badRequest = (message: string, code: number = ErrorCode.InputValidationError, details?: FieldDetail[]) =>
  new ApiError(400, code, message, details);
export const unauthenticated = (message = 'authorization required') =>
  new ApiError(401, ErrorCode.NotAuthenticated, message);
export const forbidden = (message = 'Caller is not authorized to perform the operation.') =>
  new ApiError(403, ErrorCode.NotAuthorized, message);
export const notFound = (message: string, code: number) => new ApiError(404, code, message);
/** A bounded queue is full: the caller may retry after the given seconds. */
export const tooManyRequests = (message: string, retryAfterSeconds: number) =>
  new ApiError(429, ErrorCode.TooManyRequests, message, undefined, undefined, { 'Retry-After': String(retryAfterSeconds) });
export const conflict = (message: string, code: number) => new ApiError(409, code, message);

/** Postgres unique violation: the database decides races, code translates them where they enter. */
export function isUniqueViolation(err: unknown, constraint?: string): boolean {
  const e = err as { code?: string; constraint?: string };
  return e?.code === '23505' && (constraint === undefined || e.constraint === constraint);
}

/** Errors that mean "the database is not reachable right now" rather than a bug. */
export function isDatabaseUnavailable(err: unknown): boolean {
  const e = err as { code?: string; message?: string; name?: string };
  if (!e) return false;
  if (['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', '57P01', '57P02', '57P03', '08006', '08001', '08003'].includes(e.code ?? '')) {
    return true;
  }
  return e.name === 'KnexTimeoutError' || /Connection terminated|connect ECONNREFUSED|Client has encountered a connection error/.test(e.message ?? '');
}
