// POST /v1/algo/... (reference/algorithmia-api.md section 4) and the workers' insights callback.
// Path forms: {owner}/{name}[/{version}] and {algorithmId}[/{version}]. Usernames cannot contain
// '-', so a UUID in the first segment means the algorithm-id form (then the second segment is the
// version). Express's non-strict routing accepts the Node TS client's trailing slash.
import type { Request, Response } from 'express';
import { UUID_PATTERN } from '../platform/ids';
import { route, type RouteDef } from '../platform/routes';
import { decodeContentEncoding, parseInput } from './execution-input';
import { sendOutcome, type ExecQuery } from './algo-response';
import type { AlgorithmRef, ExecutionService } from './execution-service';
import { readRequestBody } from './request-body';
import { unattributedInsightsRoute, workerInsightsRoute, type WorkerInsightsReceiver } from './worker-insights-route';

export const MAX_INPUT_BYTES = 10 * 1024 * 1024;

export function refFromParams(p: Record<string, string>): AlgorithmRef {
  if (p.algorithmId !== undefined) return { algorithmId: p.algorithmId };
  if (p.version === undefined && UUID_PATTERN.test(p.owner)) return { algorithmId: p.owner, version: p.name };
  return { owner: p.owner, name: p.name, version: p.version };
}

export function executionRoutes(service: ExecutionService, pool: WorkerInsightsReceiver): RouteDef[] {
  const execute = async (req: Request, res: Response) => {
    const ref = refFromParams(req.params as Record<string, string>);
    const q = req.query as unknown as ExecQuery;
    const body = await decodeContentEncoding(await readRequestBody(req, MAX_INPUT_BYTES), req.header('content-encoding'), MAX_INPUT_BYTES);
    const input = parseInput(req.header('content-type'), body);
    const target = await service.resolve(req.principal!, ref);
    const opts = { timeoutMs: Math.round(q.timeout * 1000), requestId: req.requestId, caller: req.principal! };
    if (q.output === 'void') {
      service.runInBackground(target, input, opts); // throws the 429 when the caller's runs are at their bound
      res.json({ async: 'void', request_id: req.requestId });
      return;
    }
    sendOutcome(res, await service.run(target, input, opts), target, q, req.requestId);
  };
  const opts = { body: 'none' as const };
  return [
    route('post', '/v1/algo/{owner}/{name}', 'algo', execute, opts),
    route('post', '/v1/algo/{owner}/{name}/{version}', 'algo', execute, opts),
    route('post', '/v1/algo/{algorithmId}', 'algo', execute, opts),
    workerInsightsRoute(pool),
    unattributedInsightsRoute(),
  ];
}
