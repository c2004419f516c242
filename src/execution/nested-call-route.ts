// POST /worker/{token}/v1/algo/{owner}/{name}[/{version}]: where algorithm code calls other
// algorithms. During a call the worker's ALGORITHMIA_API is <base>/worker/<call token> (inside the
// sandbox, base is the forwarder to the callback Unix socket), so the official clients'
// `client.algo('o/n').pipe(x)` (and Beacon's helpers, and plain HTTP) land here. The token is the
// only credential: minted for one call, it resolves to that call's context (call-context.ts), never
// to an API key, and means nothing once that call has ended. Any Authorization header is ignored.
import type { Request, Response } from 'express';
import { ApiError, ErrorCode } from '../platform/errors';
import { route, type RouteDef } from '../platform/routes';
import { sendOutcome, type ExecQuery } from './algo-response';
import type { CallResolver } from './call-context';
import { decodeContentEncoding, parseInput } from './execution-input';
import { MAX_INPUT_BYTES, refFromParams } from './execution-routes';
import type { NestedCallService } from './nested-call-service';
import { readRequestBody } from './request-body';

export function nestedCallRoutes(resolver: CallResolver, nested: NestedCallService): RouteDef[] {
  const call = async (req: Request, res: Response) => {
    const parent = resolver.callContext(String(req.params.token));
    if (!parent?.caller) {
      throw new ApiError(403, ErrorCode.NotAuthorized, 'Unknown or expired call token: nested calls are possible only while the calling algorithm\'s call runs.');
    }
    const q = req.query as unknown as ExecQuery;
    const body = await decodeContentEncoding(await readRequestBody(req, MAX_INPUT_BYTES), req.header('content-encoding'), MAX_INPUT_BYTES);
    const input = parseInput(req.header('content-type'), body);
    const { target, timeoutMs } = await nested.prepare(parent, refFromParams(req.params as Record<string, string>), Math.round(q.timeout * 1000));
    if (q.output === 'void') {
      nested.runInBackground(parent, target, input, timeoutMs, req.requestId); // throws the 429 at the caller's bound
      res.json({ async: 'void', request_id: req.requestId });
      return;
    }
    sendOutcome(res, await nested.run(parent, target, input, timeoutMs, req.requestId), target, q, req.requestId);
  };
  const opts = { body: 'none' as const };
  return [
    route('post', '/worker/{token}/v1/algo/{owner}/{name}', 'public', call, opts),
    route('post', '/worker/{token}/v1/algo/{owner}/{name}/{version}', 'public', call, opts),
  ];
}
