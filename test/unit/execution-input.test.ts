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

describe('parseMediaType', () => {
  test('lower-cases the type and the charset and strips quotes', () => {
    assert.deepEqual(parseMediaType('Text/Plain; Charset="UTF-8"'), { type: 'text/plain', charset: 'utf-8' });
    assert.deepEqual(parseMediaType('application/json'), { type: 'application/json' });
    assert.deepEqual(parseMediaType('application/json; foo=bar; charset=utf-8'), { type: 'application/json', charset: 'utf-8' });
    assert.equal(parseMediaType('not a type'), undefined);
  });
});

describe('parseInput', () => {
  test('application/json is parsed into any JSON value, charset or not', () => {
    assert.deepEqual(parseInput('application/json', Buffer.from('{"a":[1,2]}')), { contentType: 'json', data: { a: [1, 2] } });
    assert.deepEqual(parseInput('application/json; charset=UTF-8', Buffer.from('"HAL 9000"')), { contentType: 'json', data: 'HAL 9000' });
    assert.deepEqual(parseInput('application/json', Buffer.from('null')), { contentType: 'json', data: null });
    assert.deepEqual(parseInput('APPLICATION/JSON', Buffer.from(' 42 ')), { contentType: 'json', data: 42 });
  });

  test('invalid or empty JSON is a 400', () => {
    refused(() => parseInput('application/json', Buffer.from('{"a":')), 400, /Invalid JSON input/);
    refused(() => parseInput('application/json', Buffer.alloc(0)), 400, /body is empty/);
  });

  test('text/plain and application/text are text, UTF-8 by default', () => {
    assert.deepEqual(parseInput('text/plain', Buffer.from('héllo ☃')), { contentType: 'text', data: 'héllo ☃' });
    assert.deepEqual(parseInput('application/text', Buffer.from('x')), { contentType: 'text', data: 'x' });
    assert.deepEqual(parseInput('text/plain; charset=UTF-8', Buffer.from('')), { contentType: 'text', data: '' });
  });

  test('other charsets are decoded', () => {
    assert.deepEqual(parseInput('text/plain; charset=iso-8859-1', Buffer.from([0x63, 0x61, 0x66, 0xe9])), { contentType: 'text', data: 'café' });
    assert.deepEqual(parseInput('text/plain; charset=utf-16le', Buffer.from('hi', 'utf16le')), { contentType: 'text', data: 'hi' });
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
  test('identity and no header leave the body alone', () => {
    const b = Buffer.from('abc');
    assert.equal(decodeContentEncoding(b, undefined, LIMIT), b);
    assert.equal(decodeContentEncoding(b, 'identity', LIMIT), b);
  });

  test('base64 bodies are decoded, with or without padding and line breaks', () => {
    const bytes = Buffer.from([0, 1, 2, 250, 251, 252, 253]);
    assert.deepEqual(decodeContentEncoding(Buffer.from(bytes.toString('base64')), 'base64', LIMIT), bytes);
    assert.deepEqual(decodeContentEncoding(Buffer.from(bytes.toString('base64').replace(/=+$/, '')), 'BASE64', LIMIT), bytes);
    assert.deepEqual(decodeContentEncoding(Buffer.from('AAEC\n+vv8/Q=='), 'base64', LIMIT), bytes);
  });

  test('bad base64 is a 400', () => {
    refused(() => decodeContentEncoding(Buffer.from('not base64!'), 'base64', LIMIT), 400, /not valid base64/);
    refused(() => decodeContentEncoding(Buffer.from('AAECA'), 'base64', LIMIT), 400, /not valid base64/);
  });

  test('gzip is undone, and held to the limit after decoding', () => {
    assert.equal(decodeContentEncoding(gzipSync(Buffer.from('hello')), 'gzip', LIMIT).toString(), 'hello');
    refused(() => decodeContentEncoding(gzipSync(Buffer.alloc(LIMIT + 1)), 'gzip', LIMIT), 413, /larger than 1024 bytes/);
    refused(() => decodeContentEncoding(Buffer.from('not gzip'), 'gzip', LIMIT), 400, /could not be decoded as gzip/);
  });

  test('encodings are undone in reverse order of application', () => {
    const body = Buffer.from(gzipSync(Buffer.from('layered')).toString('base64'));
    assert.equal(decodeContentEncoding(body, 'gzip, base64', LIMIT).toString(), 'layered');
  });

  test('an unknown encoding is a 415', () => {
    refused(() => decodeContentEncoding(Buffer.from('x'), 'compress', LIMIT), 415, /Unsupported Content-Encoding 'compress'/);
  });
});
