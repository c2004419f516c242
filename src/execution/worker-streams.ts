// Stream helpers for a worker's pipes: bounded capture of the algorithm's output, the end-of-call
// markers on stdout/stderr, and newline-delimited replies on fd 3.

const EMPTY: Buffer = Buffer.alloc(0);

/** Keeps the first `limit` bytes of a call's output and counts the rest. */
export class BoundedOutput {
  private readonly chunks: Buffer[] = [];
  private kept = 0;
  private dropped = 0;
  constructor(private readonly limit: number) {}
  add(b: Buffer): void {
    const room = Math.max(0, this.limit - this.kept);
    const part = b.length <= room ? b : b.subarray(0, room);
    if (part.length > 0) this.chunks.push(part);
    this.kept += part.length;
    this.dropped += b.length - part.length;
  }
  text(): string {
    const s = Buffer.concat(this.chunks).toString('utf8');
    return this.dropped ? `${s}\n[beacon: output truncated, ${this.dropped} more bytes were not kept]\n` : s;
  }
}

/** Passes a stream's bytes on until the armed end marker, which may arrive split across chunks. */
export class MarkerScanner {
  seen = true;
  private marker?: Buffer;
  private carry: Buffer = EMPTY;
  arm(marker: string): void {
    this.marker = Buffer.from(marker);
    this.carry = EMPTY;
    this.seen = false;
  }
  disarm(out: BoundedOutput): void {
    if (!this.seen) out.add(this.carry); // the marker never came (the process died): keep the tail
    this.marker = undefined;
    this.carry = EMPTY;
    this.seen = true;
  }
  feed(chunk: Buffer, out: BoundedOutput): void {
    if (!this.marker) return out.add(chunk); // start-up: keep everything
    if (this.seen) return; // after the marker: no longer this call's output
    const data = this.carry.length ? Buffer.concat([this.carry, chunk]) : chunk;
    const at = data.indexOf(this.marker);
    if (at >= 0) {
      out.add(data.subarray(0, at));
      this.carry = EMPTY;
      this.seen = true;
      return;
    }
    const keep = Math.min(data.length, this.marker.length - 1);
    out.add(data.subarray(0, data.length - keep));
    this.carry = data.subarray(data.length - keep);
  }
}

/** Splits fd 3 into lines; undefined once a line grows past maxLine (a runaway reply). */
export class LineReader {
  private parts: Buffer[] = [];
  private size = 0;
  constructor(private readonly maxLine: number) {}
  push(chunk: Buffer): string[] | undefined {
    const lines: string[] = [];
    let start = 0;
    for (let nl = chunk.indexOf(10); nl !== -1; nl = chunk.indexOf(10, start)) {
      this.parts.push(chunk.subarray(start, nl));
      lines.push(Buffer.concat(this.parts).toString('utf8'));
      this.parts = [];
      this.size = 0;
      start = nl + 1;
    }
    if (start < chunk.length) {
      this.parts.push(chunk.subarray(start));
      this.size += chunk.length - start;
      if (this.size > this.maxLine) return undefined;
    }
    return lines;
  }
}

export function toBuffer(data: unknown): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (data instanceof Uint8Array) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  if (typeof data === 'string') return Buffer.from(data);
  throw new TypeError(`input must be bytes, not ${data === null ? 'null' : typeof data}`);
}
