'use strict';
// Helpers for JavaScript algorithms running in Beacon workers (NODE_PATH makes this
// `require('beacon')`):
//   const beacon = require('beacon');
//   await beacon.reportInsights({ cats_in_image: 4 });
//   const res = await beacon.algo('owner/name/1.0.0').pipe(input);   // res.result, res.metadata
//   beacon.algo('owner/name').setOptions({ timeout: 60, stdout: true }).pipe(input)
// Calls go to $ALGORITHMIA_API/v1/algo/..., which inside a worker carries the call's token: the
// nested call runs for whoever called this algorithm. A failed call rejects with an Error carrying
// the callee's message, error_type and stacktrace.
// The request matches the official clients: POST $ALGORITHMIA_API/v1/insights with the body
// [{"insight_key": k, "insight_value": v}, ...]. The promise rejects with the server's message when
// the report is refused. The runner waits for reports still in flight before it sends a result, so
// a report that is not awaited still counts for the call that made it.
const http = require('http');
const https = require('https');

const pending = new Set();

function serverMessage(status, text) {
  try {
    const body = JSON.parse(text);
    if (body && body.error && typeof body.error.message === 'string') return body.error.message;
    if (body && typeof body.error === 'string') return body.error;
  } catch (_) {
    // not JSON: fall through to the status line
  }
  return `insights report refused with HTTP ${status}`;
}

function post(insights) {
  return new Promise((resolve, reject) => {
    if (insights === null || typeof insights !== 'object' || Array.isArray(insights)) {
      reject(new TypeError('reportInsights expects an object of metric names to numbers or booleans'));
      return;
    }
    const body = JSON.stringify(Object.keys(insights).map((k) => ({ insight_key: k, insight_value: insights[k] })));
    const url = new URL(`${process.env.ALGORITHMIA_API || 'http://localhost:9000'}/v1/insights`);
    const lib = url.protocol === 'https:' ? https : http;
    const headers = { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) };
    const req = lib.request(url, { method: 'POST', headers }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        if (res.statusCode >= 200 && res.statusCode < 300) resolve(undefined);
        else reject(new Error(serverMessage(res.statusCode, text)));
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

function reportInsights(insights) {
  const p = post(insights);
  pending.add(p);
  const forget = () => pending.delete(p);
  p.then(forget, forget);
  return p;
}

// For the runner: resolves once every report started so far (and any started meanwhile) settled.
async function settlePendingReports() {
  while (pending.size > 0) await Promise.allSettled([...pending]);
}

function encode(input) {
  if (typeof input === 'string') return { body: Buffer.from(input, 'utf8'), type: 'text/plain' };
  if (Buffer.isBuffer(input) || input instanceof Uint8Array) return { body: Buffer.from(input), type: 'application/octet-stream' };
  return { body: Buffer.from(JSON.stringify(input === undefined ? null : input), 'utf8'), type: 'application/json' };
}

function callError(status, body) {
  const e = body && body.error;
  const err = new Error(e && typeof e.message === 'string' ? e.message : typeof e === 'string' ? e : `HTTP ${status}`);
  err.status = status;
  if (e && typeof e === 'object') {
    err.error_type = e.error_type;
    err.stacktrace = e.stacktrace || e.stack_trace;
  }
  return err;
}

function algo(ref) {
  const path = String(ref).replace(/^algo:\/\//, '').replace(/^\/+|\/+$/g, '');
  let options = {};
  const api = {
    setOptions(o) {
      options = { ...o };
      return api;
    },
    pipe(input) {
      return new Promise((resolve, reject) => {
        const { body, type } = encode(input);
        const query = new URLSearchParams(Object.entries(options).map(([k, v]) => [k, String(v)])).toString();
        const url = new URL(`${process.env.ALGORITHMIA_API || 'https://api.algorithmia.com'}/v1/algo/${path}${query ? `?${query}` : ''}`);
        const lib = url.protocol === 'https:' ? https : http;
        const req = lib.request(url, { method: 'POST', headers: { 'Content-Type': type, 'Content-Length': body.length } }, (res) => {
          const chunks = [];
          res.on('data', (c) => chunks.push(c));
          res.on('error', reject);
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            if (options.output === 'raw' && res.statusCode < 300) return resolve(text);
            let parsed;
            try {
              parsed = JSON.parse(text);
            } catch (_) {
              return reject(new Error(`HTTP ${res.statusCode}: ${text.slice(0, 200)}`));
            }
            if (res.statusCode >= 300 || parsed.error) return reject(callError(res.statusCode, parsed));
            if (parsed.async) return resolve(parsed);
            const meta = parsed.metadata || {};
            const result = meta.content_type === 'binary' ? Buffer.from(parsed.result, 'base64') : meta.content_type === 'void' ? null : parsed.result;
            resolve({ result, metadata: meta, get: () => result });
          });
        });
        req.on('error', reject);
        req.end(body);
      });
    },
  };
  return api;
}

module.exports = { reportInsights, settlePendingReports, algo, client: () => ({ algo, reportInsights }) };
