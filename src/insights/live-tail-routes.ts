import type { operations } from '../generated/openapi-types';
import { route, type RouteDef } from '../platform/routes';
import type { LiveTail } from './live-tail';

// Admin only: what the console's live tail polls (the last payloads stored or delivered here).
// openapi.yaml checks the query (algorithm is owner/name, after an integer from 0).

export function liveTailRoutes(tail: LiveTail): RouteDef[] {
  return [
    route('get', '/v1/admin/insights/live-tail', 'admin', (req, res) => {
      const q = req.query as NonNullable<operations['getInsightsLiveTail']['parameters']['query']>;
      res.json(tail.list({ algorithm: q.algorithm, after: q.after }));
    }),
  ];
}
