import Joi from 'joi';
import { route, type RouteDef } from '../platform/routes';
import type { LiveTail } from './live-tail';

// Admin only: what the console's live tail polls (the last payloads stored or delivered here).
const query = Joi.object({
  algorithm: Joi.string().pattern(/^[A-Za-z][A-Za-z0-9_]*\/[A-Za-z][A-Za-z0-9_]*$/).messages({
    'string.pattern.base': "'algorithm' must be owner/name",
  }),
  after: Joi.number().integer().min(0),
});

export function liveTailRoutes(tail: LiveTail): RouteDef[] {
  return [
    route('get', '/v1/admin/insights/live-tail', 'admin', (req, res) => {
      const q = req.query as { algorithm?: string; after?: number };
      res.json(tail.list({ algorithm: q.algorithm, after: q.after }));
    }, { validate: { query } }),
  ];
}
