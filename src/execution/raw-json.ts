// An algorithm's JSON result, kept as the text its runner wrote. Parsing a 15 MB result on the main
// thread (and serialising it again for the answer) blocks every other call for seconds when it holds
// millions of small values; a validating scan costs a few milliseconds and allocates nothing. The
// runner is algorithm-controlled, so the text is validated before it is spliced into an answer: an
// invalid one could otherwise forge fields of Beacon's own response.

export class RawJson {
  constructor(readonly text: string) {}
  /** The parsed value, for code that needs it (tests, small results). */
  parse(): unknown {
    return JSON.parse(this.text);
  }
  toJSON(): unknown {
    return this.parse();
  }
}

const isDigit = (c: number) => c >= 0x30 && c <= 0x39;
const VALUE = 0;
const AFTER = 1; // after a value: ',' continues the container, its closer ends it
const KEY = 2;

/** Whether s[start, end) is exactly one JSON value (RFC 8259), checked without building it. */
export function isJsonValue(s: string, start = 0, end = s.length): boolean {
  const scan = new JsonScan(s, start, end);
  let r: boolean | undefined;
  while ((r = scan.step(Number.MAX_SAFE_INTEGER)) === undefined);
  return r;
}

/**
 * The same check in slices of about `sliceChars`, giving the event loop back between them: a
 * 15 MB result costs the other calls a few milliseconds at a time, not one long pause.
 */
export async function isJsonValueAsync(s: string, start = 0, end = s.length, sliceChars = 512 * 1024): Promise<boolean> {
  const scan = new JsonScan(s, start, end);
  for (;;) {
    const r = scan.step(sliceChars);
    if (r !== undefined) return r;
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
}

/** A resumable scanner: step() advances by about `budget` characters; undefined means not done. */
class JsonScan {
  private readonly stack: number[] = []; // open containers: 0x5b array, 0x7b object
  private depth = 0;
  private expect = VALUE;
  constructor(private readonly s: string, private i: number, private readonly end: number) {}

  step(budget: number): boolean | undefined {
    const { s, end, stack } = this;
    let { i, depth, expect } = this;
    const stop = Math.min(end, i + budget);
    for (;;) {
      let c = s.charCodeAt(i);
      while (i < end && (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09)) c = s.charCodeAt(++i);
      if (i >= end) return expect === AFTER && depth === 0;
      if (i >= stop) {
        Object.assign(this, { i, depth, expect });
        return undefined;
      }
      if (expect === AFTER) {
        if (depth === 0) return false; // text after the value
        const top = stack[depth - 1];
        if (c === 0x2c) {
          i++;
          expect = top === 0x7b ? KEY : VALUE;
        } else if ((c === 0x5d && top === 0x5b) || (c === 0x7d && top === 0x7b)) {
          depth--;
          i++;
        } else return false;
        continue;
      }
      if (c === 0x22) {
        i = scanString(s, i, end);
        if (i === 0) return false;
        if (expect === KEY) {
          c = s.charCodeAt(i);
          while (i < end && (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09)) c = s.charCodeAt(++i);
          if (i >= end || c !== 0x3a) return false;
          i++;
          expect = VALUE;
        } else expect = AFTER;
        continue;
      }
      if (expect === KEY) return false;
      if (c === 0x5b || c === 0x7b) {
        stack[depth++] = c;
        i++;
        let n = s.charCodeAt(i);
        while (i < end && (n === 0x20 || n === 0x0a || n === 0x0d || n === 0x09)) n = s.charCodeAt(++i);
        if (i < end && n === (c === 0x5b ? 0x5d : 0x7d)) {
          depth--; // [] or {}
          i++;
          expect = AFTER;
        } else expect = c === 0x7b ? KEY : VALUE;
        continue;
      }
      if (c === 0x2d || isDigit(c)) i = scanNumber(s, i, end);
      else if (c === 0x74 && s.startsWith('true', i)) i += 4;
      else if (c === 0x66 && s.startsWith('false', i)) i += 5;
      else if (c === 0x6e && s.startsWith('null', i)) i += 4;
      else return false;
      if (i === 0 || i > end) return false;
      expect = AFTER;
    }
  }
}

/** Index just past the string starting at s[i] (a quote), or 0 when it is not a valid string. */
function scanString(s: string, i: number, end: number): number {
  for (i++; i < end; i++) {
    const c = s.charCodeAt(i);
    if (c > 0x5c || (c > 0x22 && c < 0x5c) || c === 0x20 || c === 0x21) continue; // the common case
    if (c === 0x22) return i + 1;
    if (c < 0x20) return 0;
    if (c === 0x5c) {
      const e = s.charCodeAt(++i);
      if (e === 0x75) {
        if (!/^[0-9a-fA-F]{4}$/.test(s.slice(i + 1, i + 5))) return 0;
        i += 4;
      } else if (!'"\\/bfnrt'.includes(String.fromCharCode(e))) return 0;
    }
  }
  return 0;
}

/** Index just past the number starting at s[i], or 0 when it is not a valid number. */
function scanNumber(s: string, i: number, end: number): number {
  if (s.charCodeAt(i) === 0x2d) i++;
  if (s.charCodeAt(i) === 0x30) i++;
  else if (isDigit(s.charCodeAt(i))) while (i < end && isDigit(s.charCodeAt(i))) i++;
  else return 0;
  if (s.charCodeAt(i) === 0x2e) {
    i++;
    if (!isDigit(s.charCodeAt(i))) return 0;
    while (i < end && isDigit(s.charCodeAt(i))) i++;
  }
  const e = s.charCodeAt(i);
  if (e === 0x65 || e === 0x45) {
    i++;
    const sign = s.charCodeAt(i);
    if (sign === 0x2b || sign === 0x2d) i++;
    if (!isDigit(s.charCodeAt(i))) return 0;
    while (i < end && isDigit(s.charCodeAt(i))) i++;
  }
  return i;
}
