// What an algorithm receives, decided by the request's Content-Type (reference/algorithmia-api.md 4.4):
//   application/json                      json   (forwarded as UTF-8 bytes; the worker's runner parses
//                                                 it within depth and size limits: invalid JSON is a 400)
//   text/plain, application/text          text   (checked with the given charset, UTF-8 by default)
//   application/octet-stream              binary (bytes)
//   missing                               400 (the clients always send one; guessing would hide mistakes)
//   anything else                         415
// Content-Encoding applies first: identity, base64 (the body is base64 text, as Algorithmia's
// langserver accepts), gzip, deflate and br.
import { isUtf8 } from 'node:buffer';
import { promisify } from 'node:util';
import { brotliDecompress, gunzip, inflate } from 'node:zlib';
import { ApiError, badRequest, ErrorCode } from '../platform/errors';

export type InputContentType = 'text' | 'json' | 'binary';

export interface ExecutionInput {
  contentType: InputContentType;
  /**
   * The caller's bytes: UTF-8 for text and json (re-encoded only when another charset was named).
   * The main thread never parses the caller's JSON: a 10 MB document would block every other call.
   */
  data: Buffer;
}

const ACCEPTED = 'application/json, text/plain, application/text or application/octet-stream';

const unsupported = (message: string) => new ApiError(415, ErrorCode.UnsupportedMediaType, message);
const tooLarge = (limit: number) =>
  new ApiError(413, ErrorCode.PayloadTooLarge, `The request body is larger than ${limit} bytes after decoding.`);

interface MediaType {
  type: string;
  charset?: string;
}

/** "Text/Plain; Charset=\"UTF-8\"" -> { type: 'text/plain', charset: 'utf-8' }. */
export function parseMediaType(header: string): MediaType | undefined {
  const [head, ...params] = header.split(';');
  const type = head.trim().toLowerCase();
  if (!/^[a-z0-9!#$&^_.+-]+\/[a-z0-9!#$&^_.+-]+$/.test(type)) return undefined;
  const out: MediaType = { type };
  for (const p of params) {
    const eq = p.indexOf('=');
    if (eq < 0) continue;
    if (p.slice(0, eq).trim().toLowerCase() !== 'charset') continue;
    out.charset = p.slice(eq + 1).trim().replace(/^"(.*)"$/, '$1').toLowerCase();
  }
  return out;
}

/** The body as UTF-8 bytes: checked in place when it claims UTF-8 (fast, native), else transcoded. */
function utf8Bytes(body: Buffer, charset: string | undefined): Buffer {
  const cs = (charset || 'utf-8').toLowerCase();
  if (cs === 'utf-8' || cs === 'utf8') {
    if (!isUtf8(body)) throw badRequest(`The request body is not valid ${charset || 'utf-8'} text.`, ErrorCode.InvalidRequest);
    return body;
  }
  return Buffer.from(decodeText(body, charset), 'utf8');
}

function decodeText(body: Buffer, charset: string | undefined): string {
  let decoder: TextDecoder;
  try {
    decoder = new TextDecoder(charset || 'utf-8', { fatal: true });
  } catch {
    throw unsupported(`Unsupported charset '${charset}'; use utf-8 or another standard charset.`);
  }
  try {
    return decoder.decode(body);
  } catch {
    throw badRequest(`The request body is not valid ${charset || 'utf-8'} text.`, ErrorCode.InvalidRequest);
  }
}

const BASE64 = /^[A-Za-z0-9+/_-]*={0,2}$/;

function decodeBase64(body: Buffer): Buffer {
  const text = body.toString('latin1').replace(/\s+/g, '');
  if (!BASE64.test(text) || text.replace(/=+$/, '').length % 4 === 1) {
    throw badRequest('The request body is not valid base64 (Content-Encoding: base64).', ErrorCode.InvalidRequest);
  }
  return Buffer.from(text, 'base64');
}

// On libuv's thread pool, not the main thread: inflating 10 MB takes tens of milliseconds.
const inflaters = {
  gzip: promisify(gunzip),
  deflate: promisify(inflate),
  br: promisify(brotliDecompress),
};

/** Undoes Content-Encoding; decoded bodies are held to the same limit as raw ones. */
export async function decodeContentEncoding(body: Buffer, header: string | undefined, limit: number): Promise<Buffer> {
  const encodings = (header ?? '').split(',').map((e) => e.trim().toLowerCase()).filter((e) => e && e !== 'identity');
  let out = body;
  // Encodings are listed in the order they were applied: undo them from the last one.
  for (const enc of encodings.reverse()) {
    try {
      if (enc === 'base64') out = decodeBase64(out);
      else if (enc === 'gzip' || enc === 'x-gzip') out = await inflaters.gzip(out, { maxOutputLength: limit });
      else if (enc === 'deflate') out = await inflaters.deflate(out, { maxOutputLength: limit });
      else if (enc === 'br') out = await inflaters.br(out, { maxOutputLength: limit });
      else throw unsupported(`Unsupported Content-Encoding '${enc}'; use base64, gzip, deflate or none.`);
    } catch (err) {
      if (err instanceof ApiError) throw err;
      if (err instanceof RangeError || (err as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') throw tooLarge(limit);
      throw badRequest(`The request body could not be decoded as ${enc}.`, ErrorCode.InvalidRequest);
    }
    if (out.length > limit) throw tooLarge(limit);
  }
  return out;
}

/** Turns a decoded body into the algorithm's input, or throws the 4xx the caller deserves. */
export function parseInput(contentTypeHeader: string | undefined, body: Buffer): ExecutionInput {
  if (contentTypeHeader === undefined || contentTypeHeader.trim() === '') {
    throw badRequest(`Missing Content-Type; send ${ACCEPTED}.`, ErrorCode.InvalidRequest);
  }
  const media = parseMediaType(contentTypeHeader);
  if (!media) throw unsupported(`Unsupported Content-Type '${contentTypeHeader}'; send ${ACCEPTED}.`);
  switch (media.type) {
    case 'application/json': {
      const data = utf8Bytes(body, media.charset);
      // The one check that needs no parse; the runner reports everything else.
      if (data.length <= 64 && data.toString('latin1').trim() === '') {
        throw badRequest('Invalid JSON input: the body is empty.', ErrorCode.MalformedJson);
      }
      return { contentType: 'json', data };
    }
    case 'text/plain':
    case 'application/text':
      return { contentType: 'text', data: utf8Bytes(body, media.charset) };
    case 'application/octet-stream':
      return { contentType: 'binary', data: body };
    default:
      throw unsupported(`Unsupported Content-Type '${media.type}'; send ${ACCEPTED}.`);
  }
}
