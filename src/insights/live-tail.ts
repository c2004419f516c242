// The admin console's live look at the pipeline: the last N payloads the sink stored ("waiting")
// or the relay sent to Kafka ("delivered"), newest first, in memory on this instance only. Bounded:
// one ring of at most `capacity` entries, one entry per payload (delivery updates it in place), so
// the tail never becomes a second copy of the stream. Payloads are kept as the JSON text that was
// stored or sent and parsed only when the tail is read, so feeding it costs the pipeline next to nothing.

export type LiveTailState = 'waiting' | 'delivered';

export interface LiveTailEntry {
  /** Goes up on every change; a poller passes the last one it saw as `after`. */
  seq: number;
  state: LiveTailState;
  request_id: string;
  /** owner/name, from the payload's operational fields. */
  algorithm: string;
  version: string;
  /** When this instance saw the payload stored, or delivered. */
  at: string;
  payload: Record<string, unknown>;
}

export const LIVE_TAIL_CAPACITY = 200;

/** A payload as the sink stored it or the relay sent it: its request id and its JSON text. */
export interface TailPayload {
  requestId: string;
  payload: string;
}

interface Held {
  seq: number;
  state: LiveTailState;
  at: string;
  raw: string;
  parsed?: Record<string, unknown>;
}

export class LiveTail {
  private readonly entries = new Map<string, Held>(); // by request id, insertion order = age
  private seq = 0;

  constructor(private readonly capacity = LIVE_TAIL_CAPACITY) {}

  /** The sink committed these payloads to the outbox. */
  waiting(entries: readonly TailPayload[]): void {
    for (const e of entries) {
      if (this.entries.get(e.requestId)?.state === 'delivered') continue; // the relay was faster
      this.put(e, 'waiting');
    }
  }

  /** The relay sent these payloads and Kafka acknowledged them. */
  delivered(entries: readonly TailPayload[]): void {
    for (const e of entries) this.put(e, 'delivered');
  }

  /** Newest change first; only entries changed after `after`, and only those of `algorithm` when given. */
  list(filter: { algorithm?: string; after?: number } = {}): { entries: LiveTailEntry[]; last_seq: number; capacity: number } {
    const wanted = filter.algorithm?.toLowerCase();
    const out: LiveTailEntry[] = [];
    for (const [requestId, held] of this.entries) {
      if (filter.after !== undefined && held.seq <= filter.after) continue;
      const e = entryOf(requestId, held);
      if (wanted && e.algorithm.toLowerCase() !== wanted) continue;
      out.push(e);
    }
    out.sort((a, b) => b.seq - a.seq);
    return { entries: out, last_seq: this.seq, capacity: this.capacity };
  }

  private put(e: TailPayload, state: LiveTailState): void {
    this.entries.delete(e.requestId); // re-inserted last: the newest change
    this.entries.set(e.requestId, { seq: ++this.seq, state, at: new Date().toISOString(), raw: e.payload });
    while (this.entries.size > this.capacity) {
      const oldest = this.entries.keys().next().value as string;
      this.entries.delete(oldest);
    }
  }
}

function entryOf(requestId: string, held: Held): LiveTailEntry {
  held.parsed ??= parsePayload(held.raw);
  const payload = held.parsed;
  return {
    seq: held.seq,
    state: held.state,
    request_id: requestId,
    algorithm: `${String(payload.algorithm_owner ?? '')}/${String(payload.algorithm_name ?? '')}`,
    version: String(payload.algorithm_version ?? ''),
    at: held.at,
    payload,
  };
}

function parsePayload(text: string): Record<string, unknown> {
  try {
    const v: unknown = JSON.parse(text);
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : { value: v };
  } catch {
    return { unparsable: text.slice(0, 200) };
  }
}
