import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { ApiError, ErrorCode } from '../platform/errors';

// Lists page with {marker, next_link, results}. A marker is opaque to clients: the position after the
// last result, signed so that a marker we never issued (garbled, edited, or taken from another list)
// is refused with 5002 instead of silently paging from somewhere else.

export const DEFAULT_LIMIT = 50;
export const MAX_LIMIT = 100;

export interface Page {
  limit: number;
  /** Position after which the page starts (exclusive); undefined for the first page. */
  after?: string;
}

export interface Paged<T> {
  marker: string | null;
  next_link: string | null;
  results: T[];
}

export class MarkerCodec {
  private readonly key: Buffer;

  /** Without a configured secret the markers stay valid only while this process runs. */
  constructor(secret: Buffer | undefined) {
    this.key = createHmac('sha256', secret ?? randomBytes(32)).update('beacon paging marker v1').digest();
  }

  encode(scope: string, position: string): string {
    const payload = Buffer.from(JSON.stringify({ p: position })).toString('base64url');
    return `${payload}.${this.sign(scope, payload)}`;
  }

  decode(scope: string, marker: string): string {
    const m = /^([A-Za-z0-9_-]{1,512})\.([A-Za-z0-9_-]{22})$/.exec(marker);
    if (!m) throw invalidMarker();
    const expected = Buffer.from(this.sign(scope, m[1]));
    const given = Buffer.from(m[2]);
    if (!timingSafeEqual(expected, given)) throw invalidMarker();
    const decoded = JSON.parse(Buffer.from(m[1], 'base64url').toString('utf8')) as { p?: unknown };
    if (typeof decoded.p !== 'string') throw invalidMarker();
    return decoded.p;
  }

  /** Reads `limit` and `marker` from a query string; 5003 and 5002 as Algorithmia answers them. */
  page(scope: string, query: { limit?: unknown; marker?: unknown }): Page {
    return { limit: parseLimit(query.limit), after: query.marker === undefined ? undefined : this.decode(scope, String(query.marker)) };
  }

  /**
   * Builds the reply from limit + 1 fetched rows: the extra row only tells that another page exists.
   * `link` gets the next marker and returns the absolute next_link.
   */
  paged<R, T>(scope: string, page: Page, rows: R[], position: (r: R) => string, render: (r: R) => T, link: (marker: string) => string): Paged<T> {
    const more = rows.length > page.limit;
    const shown = more ? rows.slice(0, page.limit) : rows;
    const marker = more ? this.encode(scope, position(shown[shown.length - 1])) : null;
    return { marker, next_link: marker ? link(marker) : null, results: shown.map(render) };
  }

  private sign(scope: string, payload: string): string {
    return createHmac('sha256', this.key).update(`${scope}\n${payload}`).digest().subarray(0, 16).toString('base64url');
  }
}

/** Absolute next_link: the same list with the same filters, from `marker` on. */
export function pageLink(base: string, path: string, params: Record<string, string | number | boolean | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined) q.set(k, String(v));
  return `${base}${path}?${q.toString()}`;
}

function parseLimit(raw: unknown): number {
  if (raw === undefined) return DEFAULT_LIMIT;
  const s = String(raw);
  const n = /^\d{1,9}$/.test(s) ? Number(s) : NaN;
  if (!(n >= 1 && n <= MAX_LIMIT)) {
    throw new ApiError(400, ErrorCode.InvalidLimit, `Limit must be between 1 and ${MAX_LIMIT}.`);
  }
  return n;
}

const invalidMarker = () => new ApiError(400, ErrorCode.InvalidMarker, 'Invalid marker used.');
