import type { Authenticator } from '../platform/auth';
import { unauthenticated } from '../platform/errors';
import { route, type RouteDef } from '../platform/routes';

// Who is calling (Beacon extension): what the web console asks at sign-in, for any valid key or
// JWT, admin or not. Never the key itself.
export function whoamiRoutes(authenticator: Authenticator): RouteDef[] {
  return [
    route('get', '/v1/whoami', 'public', async (req, res) => {
      const p = await authenticator.authenticate(req.header('authorization'));
      if (!p) throw unauthenticated('Send an API key in the Authorization header.');
      res.json({
        username: p.username,
        key_type: p.keyType,
        admin: p.keyType === 'PlatformAdminKey',
        allow_algo: p.keyType !== 'PlatformAdminKey' && p.allowAlgo,
        allow_algo_management: p.keyType !== 'PlatformAdminKey' && p.allowAlgoManagement,
      });
    }),
  ];
}
