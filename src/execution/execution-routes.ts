// POST /v1/algo/... (reference/algorithmia-api.md section 4) and the workers' insights callback.
// Path forms: {owner}/{name}[/{version}] and {algorithmId}[/{version}]. Usernames cannot contain
// '-', so a UUID in the first segment means the algorithm-id form (then the second segment is the
// version). Express's non-strict routing accepts the Node TS client's trailing slash.
import type { Request, Response } from 'express';
import Joi from 'joi';
import { UUID_PATTERN } from '../platform/ids';
import { route, type RouteDef } from '../platform/routes';
import { decodeContentEncoding, parseInput } from './execution-input';
import type { AlgorithmRef, ExecutionService, ExecutionTarget } from './execution-service';
import { readRequestBody } from './request-body';
import type { CallOutcome } from './worker-pool';
import { workerInsightsRoute, type WorkerInsightsReceiver } from './worker-insights-route';

export const MAX_INPUT_BYTES = 10 * 1024 * 1024;

// Clients send Python's True/False, so booleans are case-insensitive (Joi's default); unknown
// parameters pass through untouched (the Python client forwards arbitrary extras).
const querySchema = Joi.object({
  timeout: Joi.number().greater(0).max(3000).default(300).messages({
    'number.greater': "'timeout' must be more than 0 seconds",
    'number.max': "'timeout' must be at most 3000 seconds",
    'number.base': "'timeout' must be a number of seconds",
  }),
  stdout: Joi.boolean().truthy('1').falsy('0').default(false),
  output: Joi.string().lowercase().valid('raw', 'void', 'default').default('default'),
}).unknown(true);

interface ExecQuery {
  timeout: number;
  stdout: boolean;
  output: 'raw' | 'void' | 'default';
}

function refFromParams(p: Record<string, string>): AlgorithmRef {
  if (p.algorithmId !== undefined) return { algorithmId: p.algorithmId };
  if (p.version === undefined && UUID_PATTERN.test(p.owner)) return { algorithmId: p.owner, version: p.name };
  return { owner: p.owner, name: p.name, version: p.version };
}

export function executionRoutes(service: ExecutionService, pool: WorkerInsightsReceiver): RouteDef[] {
  const execute = async (req: Request, res: Response) => {
    const ref = refFromParams(req.params as Record<string, string>);
    const q = req.query as unknown as ExecQuery;
    const body = decodeContentEncoding(await readRequestBody(req, MAX_INPUT_BYTES), req.header('content-encoding'), MAX_INPUT_BYTES);
    const input = parseInput(req.header('content-type'), body);
    const target = await service.resolve(req.principal!, ref);
    const opts = { timeoutMs: Math.round(q.timeout * 1000), requestId: req.requestId };
    if (q.output === 'void') {
      res.json({ async: 'void', request_id: req.requestId });
      service.runInBackground(target, input, opts);
      return;
    }
    const outcome = await service.run(target, input, opts);
    send(res, outcome, target, q, req.requestId);
  };
  const opts = { body: 'none' as const, validate: { query: querySchema } };
  return [
    route('post', '/v1/algo/{owner}/{name}', 'algo', execute, opts),
    route('post', '/v1/algo/{owner}/{name}/{version}', 'algo', execute, opts),
    route('post', '/v1/algo/{algorithmId}', 'algo', execute, opts),
    workerInsightsRoute(pool),
  ];
}

function send(res: Response, outcome: CallOutcome, target: ExecutionTarget, q: ExecQuery, requestId: string): void {
  const metadata: Record<string, unknown> = { duration: Number((outcome.durationMs / 1000).toFixed(6)) };
  // stdout and stack traces show the algorithm's inside: owner only.
  if (q.stdout && target.isOwner) metadata.stdout = outcome.stdout;
  metadata.request_id = requestId;

  if (outcome.kind === 'error') {
    const { message, stacktrace, error_type } = outcome.error;
    // Java and the ADK spell it stacktrace, the Python client reads stack_trace: send both.
    const trace = target.isOwner && stacktrace !== undefined ? { stacktrace, stack_trace: stacktrace } : {};
    const error = { message, ...trace, error_type };
    // The clients only show an algorithm's message on a 2xx; output=raw documents 400.
    res.status(q.output === 'raw' ? 400 : 200).json({ error, metadata, request_id: requestId });
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
