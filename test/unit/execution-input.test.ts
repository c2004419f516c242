import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { decodeContentEncoding, parseInput, parseMediaType } from '../../src/execution/execution-input';
import { ApiError } from '../../src/platform/errors';

const LIMIT = 1024;

function refused(fn: () => unknown, status: number, message: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof ApiError, String(err));
    assert.equal(err.status, status);
    assert.match(err.message, message);
    return true;
  });
}

async function refusedAsync(fn: () => Promise<unknown>, status: number, message: RegExp): Promise<void> {
  await assert.rejects(fn, (err: unknown) => {
    assert.ok(err instanceof ApiError, String(err));
    assert.equal(err.status, status);
    assert.match(err.message, message);
    return true;
  });
}

describe('parseMediaType', () => {
  test('lower-cases the type and the charset and strips quotes', () => {
    assert.deepEqual(parseMediaType('Text/Plain; Charset="UTF-8"'), { type: 'text/plain', charset: 'utf-8' });
    assert.deepEqual(parseMediaType('application/json'), { type: 'application/json' });
    assert.deepEqual(parseMediaType('application/json; foo=bar; charset=utf-8'), { type: 'application/json', charset: 'utf-8' });
    assert.equal(parseMediaType('not a type'), undefined);
  });
});

describe('parseInput', () => {
  // The main thread never parses the caller's JSON: it forwards UTF-8 bytes and the runner parses.
  const bytes = (r: { data: Buffer }) => r.data.toString('utf8');
  test('application/json is forwarded as its UTF-8 bytes, not parsed', () => {
    const deep = `${'['.repeat(5000)}${']'.repeat(5000)}`;
    assert.equal(bytes(parseInput('application/json', Buffer.from(deep))), deep);
    assert.equal(bytes(parseInput('application/json; charset=UTF-8', Buffer.from('"HAL 9000"'))), '"HAL 9000"');
    assert.equal(parseInput('APPLICATION/JSON', Buffer.from(' 42 ')).contentType, 'json');
    assert.equal(bytes(parseInput('application/json; charset=utf-16le', Buffer.from('"hé"', 'utf16le'))), '"hé"');
  });

  test('an empty JSON body is a 400 here; other invalid JSON is the runner\'s 400', () => {
    refused(() => parseInput('application/json', Buffer.alloc(0)), 400, /body is empty/);
    refused(() => parseInput('application/json', Buffer.from('  \n')), 400, /body is empty/);
    refused(() => parseInput('application/json', Buffer.from([0x22, 0xff, 0x22])), 400, /not valid utf-8/);
  });

  test('text/plain and application/text are text, UTF-8 by default', () => {
    assert.equal(bytes(parseInput('text/plain', Buffer.from('héllo ☃'))), 'héllo ☃');
    assert.equal(bytes(parseInput('application/text', Buffer.from('x'))), 'x');
    assert.equal(bytes(parseInput('text/plain; charset=UTF-8', Buffer.from(''))), '');
  });

  test('other charsets are transcoded to UTF-8', () => {
    assert.equal(bytes(parseInput('text/plain; charset=iso-8859-1', Buffer.from([0x63, 0x61, 0x66, 0xe9]))), 'café');
    assert.equal(bytes(parseInput('text/plain; charset=utf-16le', Buffer.from('hi', 'utf16le'))), 'hi');
  });

  test('an unknown charset is a 415, bytes that are not in the charset a 400', () => {
    refused(() => parseInput('text/plain; charset=klingon', Buffer.from('x')), 415, /Unsupported charset 'klingon'/);
    refused(() => parseInput('text/plain', Buffer.from([0xff, 0xfe, 0xfd])), 400, /not valid utf-8/);
  });

  test('application/octet-stream is binary, byte for byte', () => {
    const bytes = Buffer.from([0, 1, 2, 255]);
    const r = parseInput('application/octet-stream', bytes);
    assert.equal(r.contentType, 'binary');
    assert.deepEqual(r.data, bytes);
  });

  test('a missing Content-Type is a 400, any other type a 415', () => {
    refused(() => parseInput(undefined, Buffer.from('x')), 400, /Missing Content-Type/);
    refused(() => parseInput('  ', Buffer.from('x')), 400, /Missing Content-Type/);
    refused(() => parseInput('application/x-www-form-urlencoded', Buffer.from('a=b')), 415, /Unsupported Content-Type 'application\/x-www-form-urlencoded'/);
    refused(() => parseInput('image/png', Buffer.from('x')), 415, /image\/png/);
    refused(() => parseInput('garbage', Buffer.from('x')), 415, /garbage/);
  });
});

describe('decodeContentEncoding', () => {
  test('identity and no header leave the body alone', async () => {
    const b = Buffer.from('abc');
    assert.equal(await decodeContentEncoding(b, undefined, LIMIT), b);
    assert.equal(await decodeContentEncoding(b, 'identity', LIMIT), b);
  });

  test('base64 bodies are decoded, with or without padding and line breaks', async () => {
    const bytes = Buffer.from([0, 1, 2, 250, 251, 252, 253]);
    assert.deepEqual(await decodeContentEncoding(Buffer.from(bytes.toString('base64')), 'base64', LIMIT), bytes);
    assert.deepEqual(await decodeContentEncoding(Buffer.from(bytes.toString('base64').replace(/=+$/, '')), 'BASE64', LIMIT), bytes);
    assert.deepEqual(await decodeContentEncoding(Buffer.from('AAEC\n+vv8/Q=='), 'base64', LIMIT), bytes);
  });

  test('bad base64 is a 400', async () => {
    await refusedAsync(() => decodeContentEncoding(Buffer.from('not base64!'), 'base64', LIMIT), 400, /not valid base64/);
    await refusedAsync(() => decodeContentEncoding(Buffer.from('AAECA'), 'base64', LIMIT), 400, /not valid base64/);
  });

  test('gzip is undone, and held to the limit after decoding', async () => {
    assert.equal((await decodeContentEncoding(gzipSync(Buffer.from('hello')), 'gzip', LIMIT)).toString(), 'hello');
    await refusedAsync(() => decodeContentEncoding(gzipSync(Buffer.alloc(LIMIT + 1)), 'gzip', LIMIT), 413, /larger than 1024 bytes/);
    await refusedAsync(() => decodeContentEncoding(Buffer.from('not gzip'), 'gzip', LIMIT), 400, /could not be decoded as gzip/);
  });

  test('encodings are undone in reverse order of application', async () => {
    const body = Buffer.from(gzipSync(Buffer.from('layered')).toString('base64'));
    assert.equal((await decodeContentEncoding(body, 'gzip, base64', LIMIT)).toString(), 'layered');
  });

  test('an unknown encoding is a 415', async () => {
    await refusedAsync(() => decodeContentEncoding(Buffer.from('x'), 'compress', LIMIT), 415, /Unsupported Content-Encoding 'compress'/);
  });
});
