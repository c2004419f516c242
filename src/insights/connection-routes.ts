import { route, type RouteDef } from '../platform/routes';
import type { StoredConnection } from './connection';
import { connectionBody, testBody } from './connection-schema';
import type { ConnectionService } from './connection-service';
import type { InsightsStatus } from './insights-status';

// Admin API for the cluster-wide Insights connection (Algorithmia's /v1/admin/insights-connection).
// Admin keys only. The password is write-only: replies show a mask.

export const PASSWORD_MASK = '********';

export function connectionRoutes(service: ConnectionService, status: () => Promise<InsightsStatus>): RouteDef[] {
  return [
    route('get', '/v1/admin/insights-connection', 'admin', async (_req, res) => {
      res.json(connectionJson(await service.get()));
    }),
    route('post', '/v1/admin/insights-connection', 'admin', async (req, res) => {
      res.json(connectionJson(await service.set(req.body)));
    }, { validate: { body: connectionBody } }),
    route('delete', '/v1/admin/insights-connection', 'admin', async (_req, res) => {
      await service.delete();
      res.status(204).end();
    }),
    route('post', '/v1/admin/insights-connection/test', 'admin', async (req, res) => {
      res.json(await service.test(req.body));
    }, { validate: { body: testBody } }),
    route('get', '/v1/admin/insights-connection/status', 'admin', async (_req, res) => {
      res.json(await status());
    }),
  ];
}

export function connectionJson(c: StoredConnection) {
  return {
    id: c.id,
    connection_type: c.connectionType,
    broker_url: c.brokers.join(','),
    topic: c.topic,
    ...(c.username !== undefined ? { broker_username: c.username } : {}),
    ...(c.passwordSealed !== undefined ? { broker_password: PASSWORD_MASK } : {}),
    ...(c.saslMechanism !== undefined ? { sasl_mechanism: c.saslMechanism } : {}),
    ...(c.caCertificate !== undefined ? { ca_certificate: c.caCertificate } : {}),
    generation: c.generation,
    updated_at: c.updatedAt.toISOString(),
  };
}
