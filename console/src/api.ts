// The console is a client of Beacon's public HTTP API and nothing else. The key lives in
// sessionStorage (this tab, until it closes or signs out): never in a URL, a cookie or a log.

import type { components } from '../../src/generated/openapi-types';

const KEY = 'beacon.apiKey';

/** One field of a refused request (openapi.yaml Error.error.details). */
export type FieldDetail = NonNullable<components['schemas']['Error']['error']['details']>[number];

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly code?: number,
    readonly details: FieldDetail[] = [],
    readonly requestId?: string,
  ) {
    super(message);
  }

  /** Field errors by the request's field name ("body.broker_url" -> "broker_url"). */
  fields(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const d of this.details) {
      const name = d.field.replace(/^(body|query|params)\./, '');
      out[name] ??= d.message;
    }
    return out;
  }
}

export const session = {
  key: (): string | null => sessionStorage.getItem(KEY),
  set: (key: string) => sessionStorage.setItem(KEY, key),
  clear: () => sessionStorage.removeItem(KEY),
};

let onUnauthorised: (err: ApiError) => void = () => undefined;
/** Called when a signed-in request answers 401: the key was revoked meanwhile. */
export function whenUnauthorised(fn: (err: ApiError) => void): void {
  onUnauthorised = fn;
}

export interface CallOptions {
  /** Overrides the stored key (sign-in tries a key before keeping it). */
  key?: string;
  contentType?: string;
  /** The raw body (text/plain input of an algorithm call). */
  raw?: string;
}

export async function api<T>(method: string, path: string, body?: unknown, opts: CallOptions = {}): Promise<T> {
  const key = opts.key ?? session.key();
  const headers: Record<string, string> = { Accept: 'application/json' };
  if (key) headers.Authorization = `Simple ${key}`;
  let payload: string | undefined;
  if (opts.raw !== undefined) {
    payload = opts.raw;
    headers['Content-Type'] = opts.contentType ?? 'text/plain';
  } else if (body !== undefined) {
    payload = JSON.stringify(body);
    headers['Content-Type'] = 'application/json';
  }
  let res: Response;
  try {
    res = await fetch(path, { method, headers, body: payload, cache: 'no-store', credentials: 'omit' });
  } catch {
    throw new ApiError(0, 'Beacon is not reachable (network error). Check that the service is running.');
  }
  const text = await res.text();
  let data: unknown;
  try {
    data = text ? JSON.parse(text) : undefined;
  } catch {
    data = text;
  }
  if (!res.ok) {
    const err = toError(res.status, data, res.headers.get('x-request-id') ?? undefined);
    if (res.status === 401 && !opts.key) onUnauthorised(err);
    throw err;
  }
  return data as T;
}

function toError(status: number, data: unknown, requestId?: string): ApiError {
  const e = (data as { error?: unknown } | undefined)?.error;
  if (typeof e === 'string') return new ApiError(status, e, undefined, [], requestId);
  if (e && typeof e === 'object') {
    const o = e as { message?: string; code?: number; details?: FieldDetail[] };
    return new ApiError(status, o.message ?? `HTTP ${status}`, o.code, Array.isArray(o.details) ? o.details : [], requestId);
  }
  return new ApiError(status, `HTTP ${status}`, undefined, [], requestId);
}

export const errorText = (err: unknown): string => (err instanceof Error ? err.message : String(err));

/** A form's failure: the API's field errors next to their fields, or one message when it named none. */
export function showFormError(err: unknown, setFields: (f: Record<string, string>) => void, setError: (m: string) => void): void {
  if (!(err instanceof ApiError)) return setError(errorText(err));
  const f = err.fields();
  setFields(f);
  if (Object.keys(f).length === 0) setError(err.message);
}

export const enc = encodeURIComponent;
