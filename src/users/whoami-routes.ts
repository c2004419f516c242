import { route, type RouteDef } from '../platform/routes';

// Who is calling (Beacon extension): what the web console asks at sign-in, for any valid key or
// JWT, admin or not. Never the key itself.
// The `account` level: any authenticated caller, admin keys included.
export function whoamiRoutes(): RouteDef[] {
  return [
    route('get', '/v1/whoami', 'account', async (req, res) => {
      const p = req.principal!;
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
