// POST /worker/{token}/v1/insights — where algorithm code reports inference metrics.
//
// During a call the worker's ALGORITHMIA_API is <base>/worker/<token>, so the official clients'
// POST to $ALGORITHMIA_API/v1/insights lands here: served on the callback Unix socket for sandboxed
// workers (base http://127.0.0.1:9000 inside the sandbox), on the service's port otherwise. The
// unguessable token, minted for that call alone, is the authentication: the Python client sends no
// Authorization header.
// The body is read as JSON whatever the Content-Type says (the route layer does that).
import { mergeReportedMetrics } from '../insights/reported-metrics';
import { ApiError, ErrorCode } from '../platform/errors';
import { route, type RouteDef } from '../platform/routes';

export interface WorkerInsightsReceiver {
  reportInsights(token: string, body: unknown): { status: 200 | 400 | 404; message?: string };
}

export function workerInsightsRoute(pool: WorkerInsightsReceiver): RouteDef {
  return route('post', '/worker/{token}/v1/insights', 'public', (req, res) => {
    const outcome = pool.reportInsights(String(req.params.token), req.body);
    if (outcome.status !== 200) {
      const code = outcome.status === 404 ? ErrorCode.InvalidRequest : ErrorCode.InputValidationError;
      throw new ApiError(outcome.status, code, outcome.message ?? 'insights report refused');
    }
    res.json({ response: 'ok' });
  }, { bodyLimit: '256kb' });
}

/**
 * POST /v1/insights outside any worker: what the official clients reach when ALGORITHMIA_API is the
 * service itself (the Java client with its API key, values as strings). There is no call to
 * attribute the metrics to, so the report is checked (400 when invalid) and answered, not recorded.
 */
export function unattributedInsightsRoute(): RouteDef {
  return route('post', '/v1/insights', 'public', (req, res) => {
    const checked = mergeReportedMetrics({}, req.body);
    if (!checked.ok) throw new ApiError(400, ErrorCode.InputValidationError, checked.message);
    res.json({ response: 'not recorded: report insights from inside an algorithm call (its $ALGORITHMIA_API/v1/insights)' });
  }, { bodyLimit: '256kb' });
}
