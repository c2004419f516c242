// The encoding of one outbox batch row's `records` (bytea): for each payload, in order, its
// request id, message key, ce_source, event time and value, each as a 4-byte big-endian length
// followed by the UTF-8 bytes (the upgrade migration writes the same layout with int4send). The
// relay hands slices of the row's buffer to the producer as they are: nothing is parsed, copied
// or re-serialised between the INSERT and the produce request.

export interface OutboxEntry {
  requestId: string;
  messageKey: string;
  ceSource: string;
  eventTime: string;
  payload: string;
}

/** One payload of a claimed batch row; every field is a view into the row's buffer. */
export interface OutboxMessage {
  rowId: string;
  /** Position of the payload inside its row. */
  index: number;
  requestId: Buffer;
  key: Buffer;
  ceSource: Buffer;
  eventTime: Buffer;
  value: Buffer;
}

const FIELDS = 5;

export function encodeRecords(entries: readonly OutboxEntry[]): Buffer {
  let size = 0;
  for (const e of entries) {
    size +=
      4 * FIELDS +
      Buffer.byteLength(e.requestId) +
      Buffer.byteLength(e.messageKey) +
      Buffer.byteLength(e.ceSource) +
      Buffer.byteLength(e.eventTime) +
      Buffer.byteLength(e.payload);
  }
  const buf = Buffer.allocUnsafe(size);
  let at = 0;
  const put = (s: string) => {
    const n = buf.write(s, at + 4, 'utf8');
    buf.writeUInt32BE(n, at);
    at += 4 + n;
  };
  for (const e of entries) {
    put(e.requestId);
    put(e.messageKey);
    put(e.ceSource);
    put(e.eventTime);
    put(e.payload);
  }
  return buf;
}

export function decodeRecords(rowId: string, buf: Buffer): OutboxMessage[] {
  const out: OutboxMessage[] = [];
  let at = 0;
  const take = () => {
    if (at + 4 > buf.length) throw new Error(`outbox row ${rowId}: records are truncated`);
    const n = buf.readUInt32BE(at);
    const start = at + 4;
    at = start + n;
    if (at > buf.length) throw new Error(`outbox row ${rowId}: records are truncated`);
    return buf.subarray(start, at);
  };
  while (at < buf.length) {
    out.push({ rowId, index: out.length, requestId: take(), key: take(), ceSource: take(), eventTime: take(), value: take() });
  }
  return out;
}

/** Back to entries (the set-aside path rewrites a row without one payload; tests read rows). */
export function toEntries(messages: readonly OutboxMessage[]): OutboxEntry[] {
  return messages.map((m) => ({
    requestId: m.requestId.toString('utf8'),
    messageKey: m.key.toString('utf8'),
    ceSource: m.ceSource.toString('utf8'),
    eventTime: m.eventTime.toString('utf8'),
    payload: m.value.toString('utf8'),
  }));
}
