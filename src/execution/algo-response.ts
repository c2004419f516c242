// The /v1/algo reply, shared by the public route and the workers' nested-call route: the query
// parameters the clients send and the three reply forms (default JSON, output=raw, errors).
import type { Response } from 'express';
import type { operations } from '../generated/openapi-types';
import { badRequest, ErrorCode, tooManyRequests } from '../platform/errors';
import type { ExecutionTarget, RunOutcome } from './execution-service';
import { RawJson } from './raw-json';

/**
 * The query options as openapi.yaml's validation leaves them: converted, defaulted (timeout 300,
 * stdout false, output 'default'; output in any case), unknown parameters untouched (the Python
 * client forwards arbitrary extras).
 */
export type ExecQuery = Required<NonNullable<operations['callAlgorithm']['parameters']['query']>>;

/** Sends the call's reply; a call the runner or the queue refused before any work throws its 4xx. */
export function sendOutcome(res: Response, outcome: RunOutcome, target: ExecutionTarget, q: ExecQuery, requestId: string): void {
  if (outcome.kind === 'input-error') {
    throw badRequest(outcome.message, outcome.reason === 'malformed' ? ErrorCode.MalformedJson : ErrorCode.InputValidationError);
  }
  if (outcome.kind === 'busy') throw tooManyRequests(outcome.message, outcome.retryAfterSeconds);
  const metadata: Record<string, unknown> = { duration: Number((outcome.durationMs / 1000).toFixed(6)) };
  // stdout and stack traces show the algorithm's inside: owner only.
  if (q.stdout && target.isOwner) metadata.stdout = outcome.stdout;
  metadata.request_id = requestId;
  // Algorithmia reported the calls an algorithm made; like stdout, the owner's view only.
  if (target.isOwner && outcome.nested.length > 0) metadata.nested_calls = outcome.nested;

  if (outcome.kind === 'error') {
    const { message, stacktrace, error_type } = outcome.error;
    // Java and the ADK spell it stacktrace, the Python client reads stack_trace: send both.
    const trace = target.isOwner && stacktrace !== undefined ? { stacktrace, stack_trace: stacktrace } : {};
    const error = { message, ...trace, error_type };
    // The clients only show an algorithm's message on a 2xx; output=raw documents 400.
    res.status(q.output === 'raw' ? 400 : 200).json({ error, metadata, request_id: requestId });
    return;
  }
  if (outcome.result instanceof RawJson) {
    // A large JSON result as its runner wrote it (validated): spliced, never parsed on this thread.
    if (q.output === 'raw') res.type('application/json').send(outcome.result.text);
    else {
      const meta = JSON.stringify({ content_type: outcome.contentType, ...metadata });
      res.type('application/json').send(`{"result":${outcome.result.text},"metadata":${meta},"request_id":${JSON.stringify(requestId)}}`);
    }
    return;
  }
  if (q.output === 'raw') {
    if (outcome.contentType === 'text') res.type('text/plain; charset=utf-8').send(String(outcome.result));
    else if (outcome.contentType === 'binary') res.type('application/octet-stream').send(Buffer.from(String(outcome.result), 'base64'));
    else res.type('application/json').send(JSON.stringify(outcome.result));
    return;
  }
  res.json({ result: outcome.result, metadata: { content_type: outcome.contentType, ...metadata }, request_id: requestId });
}
