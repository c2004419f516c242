// Text hygiene and structure limits at the edge, before authentication, joi or any store sees the
// request. PostgreSQL cannot store NUL in text or jsonb, and a lone UTF-16 surrogate cannot be
// encoded as UTF-8: left alone, both become 500s deep in a store. Malformed percent-encoding makes
// express's parameter decoding throw. Each is the caller's mistake: a 400 in the documented shape,
// with or without credentials.
//
// Management bodies are walked once, with explicit bounds (nesting, entries per object or array,
// key length), stopping at the first breach: joi never walks a 600,000-key object.
import type { NextFunction, Request, Response } from 'express';
import { badRequest, ErrorCode } from './errors';

export interface BodyLimits {
  maxDepth: number;
  maxEntries: number; // keys of one object, items of one array
  maxKeyLength: number;
}

export const DEFAULT_BODY_LIMITS: BodyLimits = Object.freeze({ maxDepth: 32, maxEntries: 1000, maxKeyLength: 255 });

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
