// GET .../errors: the failed executions of the last 7 days (at most 200), in the shape of
// Algorithmia's error logs (DC retrieve-error-logs.md). Owner only.
import { route, type RouteDef } from '../platform/routes';
import { target } from './algorithm-routes';
import type { AlgorithmService } from './algorithm-service';

/** One failed execution as the error log keeps it (execution/error-log-store.ts writes them). */
export interface ErrorLogRow {
  requestId: string;
  version: string;
  caller: string;
  errorType: string;
  message: string;
  stacktrace?: string;
  sessionId: string;
  owner: string;
  name: string;
  createdAt: Date;
}

export interface ErrorLogReader {
  recent(filter: { algorithmId: string } | { ownerId: string }): Promise<ErrorLogRow[]>;
}

const errorJson = (e: ErrorLogRow) => ({
  created_at: e.createdAt.getTime(),
  request_id: e.requestId,
  username: e.owner,
  algoname: e.name,
  algoversion: e.version,
  error: `error:\n${e.message}${e.stacktrace ? `\nstacktrace:\n${e.stacktrace}` : ''}`,
  error_type: e.errorType,
  billable_to: e.caller,
  worker: e.sessionId,
});

export function errorRoutes(algorithms: AlgorithmService, errors: ErrorLogReader): RouteDef[] {
  return [
    route('get', '/v1/algorithms/{owner}/{name}/errors', 'manage', async (req, res) => {
      const t = target(req);
      const a = await algorithms.get(t.caller, t.owner, t.name);
      res.json((await errors.recent({ algorithmId: a.id })).map(errorJson));
    }),

    route('get', '/v1/users/{username}/errors', 'manage', async (req, res) => {
      algorithms.requireOwner(req.principal!, String(req.params.username));
      res.json((await errors.recent({ ownerId: req.principal!.userId })).map(errorJson));
    }),
  ];
}
