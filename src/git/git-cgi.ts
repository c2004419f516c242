// Runs git's own smart-HTTP server, `git http-backend`, as a CGI for one request: the request body
// streams to its stdin (bounded), its CGI headers become the response's, the rest streams back.
// A request that runs past the timeout or sends more than the limit is cut off and the CGI killed.
import { spawn } from 'node:child_process';
import type { Request, Response } from 'express';
import { ApiError, ErrorCode } from '../platform/errors';

export interface CgiRequest {
  projectRoot: string;
  pathInfo: string; // /<algorithm id>.git/info/refs
  env: Record<string, string>; // clean base environment plus what the hooks need
  remoteUser: string;
  maxRequestBytes: number;
  timeoutMs: number;
}

const MAX_HEADER_BYTES = 64 * 1024;

export function runHttpBackend(req: Request, res: Response, c: CgiRequest): Promise<void> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > c.maxRequestBytes) {
    return Promise.reject(new ApiError(413, ErrorCode.PayloadTooLarge, `A git request may carry at most ${c.maxRequestBytes} bytes.`));
  }
  const env: Record<string, string> = {
    ...c.env,
    GIT_PROJECT_ROOT: c.projectRoot,
    GIT_HTTP_EXPORT_ALL: '1',
    GIT_HTTP_MAX_REQUEST_BUFFER: String(c.maxRequestBytes),
    PATH_INFO: c.pathInfo,
    REQUEST_METHOD: req.method,
    QUERY_STRING: new URL(req.originalUrl, 'http://x').search.replace(/^\?/, ''),
    CONTENT_TYPE: req.header('content-type') ?? '',
    REMOTE_USER: c.remoteUser,
    REMOTE_ADDR: req.socket.remoteAddress ?? '',
  };
  if (Number.isFinite(declared)) env.CONTENT_LENGTH = String(declared);
  const encoding = req.header('content-encoding');
  if (encoding) env.HTTP_CONTENT_ENCODING = encoding;
  const protocol = req.header('git-protocol');
  if (protocol) env.GIT_PROTOCOL = protocol;

  return new Promise((resolve, reject) => {
    const child = spawn('git', ['http-backend'], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let settled = false;
    let stderr = '';
    const finish = (err?: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (err && !res.headersSent) reject(err);
      else {
        if (err) res.destroy();
        else if (!res.writableEnded) res.end();
        resolve();
      }
    };
    const abort = (err: Error) => {
      child.kill('SIGKILL');
      req.unpipe();
      req.pause();
      finish(err);
    };
    const timer = setTimeout(() => abort(new ApiError(408, ErrorCode.InvalidRequest, `The git request took longer than ${c.timeoutMs} ms.`)), c.timeoutMs);

    let received = 0;
    req.on('data', (chunk: Buffer) => {
      if (settled) return;
      received += chunk.length;
      if (received > c.maxRequestBytes) return abort(new ApiError(413, ErrorCode.PayloadTooLarge, `A git request may carry at most ${c.maxRequestBytes} bytes.`));
      if (!child.stdin.write(chunk)) {
        req.pause();
        child.stdin.once('drain', () => req.resume());
      }
    });
    req.on('end', () => child.stdin.end());
    req.on('aborted', () => abort(new Error('client went away')));
    child.stdin.on('error', () => {});
    res.on('error', () => {}); // a client that went away; abort() has already cleaned up
    res.on('close', () => {
      if (!settled) abort(new Error('client went away'));
    });

    let head = Buffer.alloc(0);
    let bodyStarted = false;
    child.stdout.on('data', (d: Buffer) => {
      if (settled || res.destroyed) return; // cut off: what the killed CGI still had buffered goes nowhere
      if (bodyStarted) {
        if (!res.write(d)) {
          child.stdout.pause();
          res.once('drain', () => child.stdout.resume());
        }
        return;
      }
      head = Buffer.concat([head, d]);
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) {
        if (head.length > MAX_HEADER_BYTES) abort(new Error('git http-backend sent oversized headers'));
        return;
      }
      bodyStarted = true;
      for (const line of head.subarray(0, end).toString('latin1').split('\r\n')) {
        const colon = line.indexOf(':');
        if (colon < 0) continue;
        const name = line.slice(0, colon).trim();
        const value = line.slice(colon + 1).trim();
        if (name.toLowerCase() === 'status') res.status(Number(value.split(' ')[0]) || 500);
        else res.setHeader(name, value);
      }
      const rest = head.subarray(end + 4);
      if (rest.length > 0) res.write(rest);
    });
    child.stderr.on('data', (d: Buffer) => {
      if (stderr.length < 8192) stderr += d.toString('utf8');
    });
    child.on('error', (e) => abort(e));
    child.on('close', (code) => {
      if (!bodyStarted) return finish(new Error(`git http-backend exited (${code}) without a reply: ${stderr.trim()}`));
      finish();
    });
  });
}
