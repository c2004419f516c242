// Text hygiene and structure limits at the edge, before authentication, joi or any store sees the
// request. PostgreSQL cannot store NUL in text or jsonb, and a lone UTF-16 surrogate cannot be
// encoded as UTF-8: left alone, both become 500s deep in a store. Malformed percent-encoding makes
// express's parameter decoding throw. Each is the caller's mistake: a 400 in the documented shape,
// with or without credentials.
//
// Management bodies are bounded twice. Before JSON.parse, one pass over the raw bytes checks
// nesting, entries per object or array and the total count of values (parsing 600,000 keys blocks
// the event loop for seconds: it must not start). After it, the parsed value is walked once for
// key length and text hygiene. joi only ever sees bodies within these bounds.
import type { NextFunction, Request, Response } from 'express';
import { badRequest, ErrorCode } from './errors';

export interface BodyLimits {
  maxDepth: number;
  maxEntries: number; // keys of one object, items of one array
  maxValues: number; // containers and entries in the whole body
  maxKeyLength: number;
}

export const DEFAULT_BODY_LIMITS: BodyLimits = Object.freeze({ maxDepth: 32, maxEntries: 1000, maxValues: 20_000, maxKeyLength: 255 });

/**
 * The shape of raw JSON bytes, outside strings, without parsing: throws the 400 as soon as a bound
 * is passed. Linear, no allocation per value. Syntax errors are left to JSON.parse.
 */
export function checkJsonShape(buf: Uint8Array, limits: BodyLimits): void {
  const entries: number[] = []; // per open container: entries seen so far
  const empty: boolean[] = []; // per open container: nothing but whitespace since it opened
  let values = 0;
  let inString = false;
  for (let i = 0; i < buf.length; i++) {
    const c = buf[i];
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
      continue;
    }
    if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) continue;
    const top = entries.length - 1;
    if (top >= 0 && empty[top] && c !== 0x5d && c !== 0x7d) {
      empty[top] = false;
      entries[top] = 1;
      if (++values > limits.maxValues) throw shapeRefused(`has more than ${limits.maxValues} values in all`);
    }
    if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (entries.length >= limits.maxDepth) throw shapeRefused(`is nested more than ${limits.maxDepth} levels deep`);
      entries.push(0);
      empty.push(true);
    } else if (c === 0x5d || c === 0x7d) {
      entries.pop();
      empty.pop();
    } else if (c === 0x2c && top >= 0) {
      if (++entries[top] > limits.maxEntries) throw shapeRefused(`has an object or array with more than ${limits.maxEntries} entries; at most ${limits.maxEntries} are allowed`);
      if (++values > limits.maxValues) throw shapeRefused(`has more than ${limits.maxValues} values in all`);
    }
  }
}

const shapeRefused = (why: string) => badRequest(`The request is invalid: the body ${why}.`, ErrorCode.InputValidationError, [{ field: 'body', message: `the body ${why}` }]);

const LONE_SURROGATE = /\p{Cs}/u; // in u-mode a proper pair is one code point: only lone halves match

/** Why a string is refused, or undefined. */
export function textProblem(s: string): string | undefined {
  if (s.includes('\u0000')) return 'contains a NUL character';
  if (LONE_SURROGATE.test(s)) return 'contains a lone UTF-16 surrogate (not valid Unicode)';
  return undefined;
}

const invalid = (message: string) => badRequest(message, ErrorCode.InvalidRequest);

/** Every path segment and query component must decode to valid text without NUL. */
export function urlHygiene() {
  return (req: Request, _res: Response, next: NextFunction): void => {
    const url = req.originalUrl ?? req.url;
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    for (const segment of path.split('/')) checkComponent(segment, 'the path');
    if (q >= 0) {
      for (const pair of url.slice(q + 1).split('&')) {
        for (const part of pair.split('=')) checkComponent(part.replace(/\+/g, ' '), 'the query string');
      }
    }
    next();
  };
}

function checkComponent(raw: string, where: string): void {
  if (raw === '') return;
  let decoded: string;
  try {
    decoded = decodeURIComponent(raw);
  } catch {
    throw invalid(`Malformed percent-encoding in ${where}: ${JSON.stringify(raw.slice(0, 64))} is not UTF-8.`);
  }
  const why = textProblem(decoded);
  if (why) throw invalid(`A component of ${where} ${why}.`);
}

/** Walks a parsed JSON body: strings (keys too) must be clean text; structure within the limits. */
export function checkBody(body: unknown, limits: BodyLimits = DEFAULT_BODY_LIMITS): void {
  walk(body, 'body', 0, limits);
}

function walk(v: unknown, field: string, depth: number, limits: BodyLimits): void {
  if (typeof v === 'string') {
    const why = textProblem(v);
    if (why) throw refused(field, `${field} ${why}`);
    return;
  }
  if (v === null || typeof v !== 'object') return;
  if (depth >= limits.maxDepth) throw refused(field, `${field} is nested more than ${limits.maxDepth} levels deep`);
  if (Array.isArray(v)) {
    if (v.length > limits.maxEntries) throw refused(field, `${field} has ${v.length} items; at most ${limits.maxEntries} are allowed`);
    for (let i = 0; i < v.length; i++) walk(v[i], `${field}.${i}`, depth + 1, limits);
    return;
  }
  let n = 0;
  for (const key in v) {
    if (++n > limits.maxEntries) throw refused(field, `${field} has more than ${limits.maxEntries} entries; at most ${limits.maxEntries} are allowed`);
    if (key.length > limits.maxKeyLength) throw refused(field, `a key of ${field} is longer than ${limits.maxKeyLength} characters`);
    const why = textProblem(key);
    if (why) throw refused(field, `a key of ${field} ${why}`);
    walk((v as Record<string, unknown>)[key], `${field}.${key}`, depth + 1, limits);
  }
}

function refused(field: string, message: string) {
  return badRequest(`The request is invalid: ${message}.`, ErrorCode.InputValidationError, [{ field, message }]);
}
