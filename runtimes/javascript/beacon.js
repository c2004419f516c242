'use strict';
// Helpers for JavaScript algorithms running in Beacon workers (NODE_PATH makes this
// `require('beacon')`):
//   const beacon = require('beacon');
//   await beacon.reportInsights({ cats_in_image: 4 });
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

module.exports = { reportInsights, settlePendingReports };
