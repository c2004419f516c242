// Reads an execution request's body as bytes. The shared raw body parser cannot be used here: it
// refuses `Content-Encoding: base64` (which Algorithmia accepts) before a handler could decode it.
// Chunked bodies without Content-Length (npm algorithmia@0.3.10) are read the same way.
import type { Request } from 'express';
import { ApiError, ErrorCode } from '../platform/errors';

const tooLarge = (limit: number) => new ApiError(413, ErrorCode.PayloadTooLarge, `The request body is larger than ${limit} bytes.`);

export function readRequestBody(req: Request, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  // Refuse before reading; Node closes the connection rather than drain what we did not read.
  if (Number.isFinite(declared) && declared > limit) return Promise.reject(tooLarge(limit));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const cleanup = () => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('aborted', onAborted);
    };
    const fail = (err: Error) => {
      cleanup();
      req.pause();
      reject(err);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) return fail(tooLarge(limit));
      chunks.push(chunk);
    };
    const onEnd = () => {
      cleanup();
      resolve(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, size));
    };
    const onError = () => fail(new ApiError(400, ErrorCode.InvalidRequest, 'The request body could not be read.'));
    const onAborted = () => fail(new ApiError(400, ErrorCode.InvalidRequest, 'The request was aborted while its body was read.'));
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('aborted', onAborted);
  });
}
