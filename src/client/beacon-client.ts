// A typed client of Beacon's HTTP API, generated from openapi.yaml (src/generated/openapi-types.ts,
// `npm run gen:api`). The CLI and the integration tests use it; paths, parameters, bodies and replies
// are checked by the compiler against the spec.
import createClient, { type Middleware } from 'openapi-fetch';
import type { components, paths } from '../generated/openapi-types';

export type { paths } from '../generated/openapi-types';
export type Schemas = components['schemas'];
export type BeaconClient = ReturnType<typeof createClient<paths>>;

export interface ClientOptions {
  /** Sent as `Authorization: Simple <key>`. */
  apiKey?: string;
  /** Checks or observes each request and reply (the tests validate bodies against the spec here). */
  middleware?: Middleware[];
  fetch?: typeof fetch;
}

export function createBeaconClient(baseUrl: string, opts: ClientOptions = {}): BeaconClient {
  const client = createClient<paths>({
    baseUrl: baseUrl.replace(/\/$/, ''),
    headers: opts.apiKey ? { Authorization: `Simple ${opts.apiKey}` } : {},
    ...(opts.fetch ? { fetch: opts.fetch } : {}),
  });
  for (const m of opts.middleware ?? []) client.use(m);
  return client;
}

/** A reply that was not 2xx, with Beacon's error body when it sent one. */
export class BeaconApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: number | undefined,
    message: string,
    readonly body: unknown,
  ) {
    super(message);
    this.name = 'BeaconApiError';
  }
}

/** The data of a 2xx reply, or a BeaconApiError carrying the documented error's code and message. */
export async function must<T>(call: Promise<{ data?: T; error?: unknown; response: Response }>): Promise<T> {
  const { data, error, response } = await call;
  if (response.ok) return data as T;
  const e = (error ?? {}) as { error?: { code?: number; message?: string } | string };
  const detail = typeof e.error === 'string' ? e.error : e.error?.message;
  const code = typeof e.error === 'object' ? e.error?.code : undefined;
  throw new BeaconApiError(response.status, code, `${response.status} ${detail ?? response.statusText}`, error);
}
