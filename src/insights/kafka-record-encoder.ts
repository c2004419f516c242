import { createRequire } from 'node:module';

// A byte-identical, cheaper encoder for kafkajs' Kafka records (message format v2), installed in
// place of kafkajs' own (`kafkajs/src/protocol/recordBatch/record/v0`, pinned kafkajs 2.2.4).
//
// Why: kafkajs builds every record from seven Encoder objects (one for the record, one per header),
// each a zero-filled 512-byte Buffer, and computes varlong sizes with a Long library; with the six
// CloudEvents headers that was ~75 µs of client CPU per message, ~2.6x the cost without headers
// (docs/benchmarks.md). This one computes the exact size first, writes into one buffer, caches
// the encoded header names, and copies header values that are already Buffers (the relay passes
// the constant values as shared Buffers). The produce request, record batch, CRC, idempotence and
// sequence numbers stay kafkajs' own; only how one record's bytes are laid out is replaced, and
// test/unit/insights-record-encoder.test.ts compares both encoders byte for byte.

interface RecordInput {
  offsetDelta?: number;
  timestampDelta?: number;
  key?: Buffer | string | null;
  value?: Buffer | string | null;
  headers?: Record<string, Buffer | string | Array<Buffer | string> | null | undefined>;
}

/** What kafkajs' RecordBatch reads from a record: an Encoder-like object with `buf` and `buffer`. */
class EncodedRecord {
  constructor(readonly buf: Buffer) {}
  get buffer(): Buffer {
    return this.buf;
  }
  size(): number {
    return this.buf.length;
  }
}

type Original = (r: RecordInput) => { buffer: Buffer };

const requireKafkajs = createRequire(require.resolve('kafkajs'));
const RECORD_MODULE = requireKafkajs.resolve('./src/protocol/recordBatch/record/v0');
const SAFE = 0x3fff_ffff; // zigzag in 32-bit arithmetic is exact below 2^30

let original: Original | undefined;

/** kafkajs' own record encoder (for the byte-for-byte test and for inputs this one does not take). */
export function originalRecordEncoder(): Original {
  original ??= requireKafkajs(RECORD_MODULE) as Original;
  return original;
}

/**
 * Replaces kafkajs' record encoder for this process. Must run before kafkajs loads its produce
 * request module (it does so lazily, on the first produce), so the Kafka client factory calls it
 * when it is constructed. Idempotent.
 */
export function installRecordEncoder(): void {
  const orig = originalRecordEncoder();
  const cached = require.cache[RECORD_MODULE];
  if (!cached || (cached.exports as { fast?: boolean }).fast) return;
  const fast = Object.assign((r: RecordInput) => encodeRecord(r, orig), { fast: true });
  cached.exports = fast;
}

const headerNames = new Map<string, Buffer>();

function nameBytes(name: string): Buffer {
  let b = headerNames.get(name);
  if (!b) {
    const raw = Buffer.from(name, 'utf8');
    b = Buffer.concat([varInt(raw.length), raw]);
    if (headerNames.size < 1_000) headerNames.set(name, b);
  }
  return b;
}

function varInt(n: number): Buffer {
  const out = Buffer.allocUnsafe(sizeOfVarInt(n));
  writeVarInt(out, 0, n);
  return out;
}

const zigzag = (n: number) => (n << 1) ^ (n >> 31);

function sizeOfVarInt(n: number): number {
  let v = zigzag(n) >>> 0;
  let bytes = 1;
  while (v >= 0x80) {
    bytes += 1;
    v >>>= 7;
  }
  return bytes;
}

function writeVarInt(buf: Buffer, at: number, n: number): number {
  let v = zigzag(n) >>> 0;
  while (v >= 0x80) {
    buf[at++] = (v & 0x7f) | 0x80;
    v >>>= 7;
  }
  buf[at++] = v;
  return at;
}

const toBytes = (v: Buffer | string): Buffer => (Buffer.isBuffer(v) ? v : Buffer.from(String(v), 'utf8'));

export function encodeRecord(r: RecordInput, orig: Original = originalRecordEncoder()): { buffer: Buffer } {
  const offsetDelta = r.offsetDelta ?? 0;
  const timestampDelta = r.timestampDelta ?? 0;
  // Anything unusual (huge deltas, null header values, repeated headers) goes to kafkajs' encoder.
  if (!Number.isInteger(timestampDelta) || Math.abs(timestampDelta) > SAFE || !Number.isInteger(offsetDelta) || Math.abs(offsetDelta) > SAFE) {
    return orig(r);
  }
  const names: Buffer[] = [];
  const values: Buffer[] = [];
  for (const name of Object.keys(r.headers ?? {})) {
    const v = r.headers![name];
    if (v === null || v === undefined || Array.isArray(v)) return orig(r);
    names.push(nameBytes(name));
    values.push(toBytes(v));
  }
  const key = r.key === null || r.key === undefined ? null : toBytes(r.key);
  const value = r.value === null || r.value === undefined ? null : toBytes(r.value);

  let body = 1 + sizeOfVarInt(timestampDelta) + sizeOfVarInt(offsetDelta);
  body += key ? sizeOfVarInt(key.length) + key.length : 1;
  body += value ? sizeOfVarInt(value.length) + value.length : 1;
  body += sizeOfVarInt(names.length);
  for (let i = 0; i < names.length; i++) body += names[i].length + sizeOfVarInt(values[i].length) + values[i].length;

  const buf = Buffer.allocUnsafe(sizeOfVarInt(body) + body);
  let at = writeVarInt(buf, 0, body);
  buf[at++] = 0; // attributes
  at = writeVarInt(buf, at, timestampDelta);
  at = writeVarInt(buf, at, offsetDelta);
  at = writeBytes(buf, at, key);
  at = writeBytes(buf, at, value);
  at = writeVarInt(buf, at, names.length);
  for (let i = 0; i < names.length; i++) {
    at += names[i].copy(buf, at);
    at = writeBytes(buf, at, values[i]);
  }
  return new EncodedRecord(buf);
}

function writeBytes(buf: Buffer, at: number, b: Buffer | null): number {
  if (!b) return writeVarInt(buf, at, -1);
  at = writeVarInt(buf, at, b.length);
  return at + b.copy(buf, at);
}
