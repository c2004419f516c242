'use strict';
// Beacon worker runner for JavaScript algorithms: `node runner.js <entry file> <max reply bytes>`,
// run in the algorithm's working directory. Protocol (see src/execution/worker-process.ts):
//   stdin  one JSON request per line: {"id", "content_type": "text"|"json"|"binary", "data"}
//   fd 3   one JSON reply per line: {"ready": true} or {"ready": false, "error"} once, then per
//          request {"id", "content_type", "result"} or {"id", "error": {...}}
//   fd 1/2 belong to the algorithm; an end marker after each call tells the service where a call's
//          output stops.
const fs = require('fs');
const path = require('path');
const readline = require('readline');
const beacon = require('./beacon.js');

const REPLY_FD = 3;
const [entry, maxArg] = process.argv.slice(2);
const maxBytes = Number(maxArg);
const ERROR_TYPES = new Set(['AlgorithmError', 'InputError', 'UnsupportedError', 'InitializationError',
  'OutOfMemoryError', 'LanguageError', 'TooLargeError', 'ParsingError', 'EntityNotFoundError',
  'ThirdPartyCredentialError']);

function sendLine(line) {
  const buf = Buffer.from(`${line}\n`, 'utf8');
  for (let off = 0; off < buf.length;) {
    try {
      off += fs.writeSync(REPLY_FD, buf, off);
    } catch (e) {
      if (e.code !== 'EAGAIN') throw e;
    }
  }
}

// The stack up to the first frame of this runner: what follows is Beacon's, not the algorithm's.
function algorithmStack(e) {
  const lines = String(e.stack || '').split('\n');
  const own = lines.findIndex((l) => l.includes(__filename));
  return (own > 0 ? lines.slice(0, own) : lines).join('\n');
}

function errorBody(e, errorType) {
  const isError = e instanceof Error;
  const custom = e && typeof e === 'object' ? e.error_type : undefined;
  let message = isError ? e.message || e.name : String(e);
  // A syntax error's location is only on the first line of its stack ("/path/src/x.js:2").
  if (e instanceof SyntaxError && /^\/\S+:\d+$/.test(String(e.stack).split('\n')[0])) {
    message = `${String(e.stack).split('\n')[0]}: ${message}`;
  }
  return {
    message,
    stacktrace: isError ? algorithmStack(e) : '',
    error_type: errorType === 'AlgorithmError' && ERROR_TYPES.has(custom) ? custom : errorType,
  };
}

function decodeInput(req) {
  if (req.content_type === 'binary') return Buffer.from(req.data, 'base64');
  if (req.content_type === 'text' || req.content_type === 'json') return req.data;
  throw new Error(`unsupported content_type ${JSON.stringify(req.content_type)}`);
}

// JSON.stringify silently drops functions and symbols; a result holding one is an algorithm bug.
function strictReplacer(key, value) {
  if (typeof value === 'function' || typeof value === 'symbol') {
    throw new TypeError(`${typeof value} at ${key ? `key "${key}"` : 'top level'} is not JSON`);
  }
  return value;
}

function encodeResult(id, result) {
  const head = `{"id":${JSON.stringify(id)}`;
  let line;
  if (result instanceof Uint8Array) {
    const b64 = Buffer.from(result.buffer, result.byteOffset, result.byteLength).toString('base64');
    line = `${head},"content_type":"binary","result":"${b64}"}`;
  } else if (typeof result === 'string') {
    line = `${head},"content_type":"text","result":${JSON.stringify(result)}}`;
  } else {
    let json;
    try {
      json = JSON.stringify(result === undefined ? null : result, strictReplacer);
    } catch (e) {
      const message = `apply() returned a value that cannot be serialised to JSON: ${e.message}`;
      return JSON.stringify({ id, error: { message, stacktrace: '', error_type: 'AlgorithmError' } });
    }
    line = `${head},"content_type":"json","result":${json}}`;
  }
  const size = Buffer.byteLength(line);
  if (size > maxBytes) {
    const message = `the result is ${size} bytes, more than the limit of ${maxBytes} bytes`;
    return JSON.stringify({ id, error: { message, stacktrace: '', error_type: 'TooLargeError' } });
  }
  return line;
}

let failCurrent = null; // set while a call runs: uncaught errors of its async work end the call

function runCall(apply, req) {
  return new Promise((resolve) => {
    let settled = false;
    const finish = async (err, result) => {
      if (settled) return;
      settled = true;
      await beacon.settlePendingReports();
      resolve(err ? JSON.stringify({ id: req.id, error: errorBody(err, 'AlgorithmError') }) : encodeResult(req.id, result));
    };
    failCurrent = (e) => finish(e === undefined || e === null ? new Error('algorithm failed without a reason') : e);
    try {
      const input = decodeInput(req);
      if (apply.length >= 2) {
        // Algorithmia's callback style: apply(input, function (err, result) {...}).
        const r = apply(input, (err, result) => finish(err || null, result));
        if (r && typeof r.then === 'function') r.then(undefined, failCurrent);
      } else {
        Promise.resolve(apply(input)).then((result) => finish(null, result), failCurrent);
      }
    } catch (e) {
      failCurrent(e);
    }
  }).finally(() => {
    failCurrent = null;
  });
}

function writeMarker(stream, marker) {
  return new Promise((resolve) => {
    try {
      stream.write(marker, () => resolve());
    } catch (_) {
      resolve();
    }
  });
}

async function main() {
  let apply;
  try {
    const mod = require(path.resolve(entry));
    apply = mod && mod.apply;
    if (typeof apply !== 'function') throw new Error(`${entry} does not export apply(input)`);
  } catch (e) {
    sendLine(JSON.stringify({ ready: false, error: errorBody(e, 'LoadingError') }));
    process.exit(1);
  }
  const onAsyncFault = (e) => {
    if (failCurrent) failCurrent(e);
    else console.error('beacon: uncaught error outside a call:', e);
  };
  process.on('uncaughtException', onAsyncFault);
  process.on('unhandledRejection', onAsyncFault);
  process.stdout.on('error', () => {});
  process.stderr.on('error', () => {});
  sendLine(JSON.stringify({ ready: true }));

  const lines = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
  for await (const raw of lines) {
    const req = JSON.parse(raw);
    if (req.algorithmia_api) process.env.ALGORITHMIA_API = req.algorithmia_api; // per-call token
    const reply = await runCall(apply, req);
    const marker = `\x1ebeacon-end:${req.id}\x1e`;
    await Promise.all([writeMarker(process.stdout, marker), writeMarker(process.stderr, marker)]);
    sendLine(reply);
  }
  process.exit(0);
}

main();
