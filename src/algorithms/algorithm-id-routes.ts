// The algorithm-id forms of the management routes (GET|PUT /v1/algorithms/:id, POST .../compile,
// GET .../builds|versions|errors), which the Python and Java clients use. Each one resolves the id
// and hands over to the owner/name route, which checks the caller as usual. They come first in
// the table and step aside (`match`) for a first segment that is not a UUID, so
// /v1/algorithms/alice/builds still names alice's algorithm called "builds".
import { UUID_PATTERN } from '../platform/ids';
import type { RouteDef } from '../platform/routes';
import type { AlgorithmService } from './algorithm-service';

const ONE = '/v1/algorithms/{owner}/{name}';
const ALIASED: Array<[RouteDef['method'], string]> = [
  ['get', ''], ['put', ''], ['post', '/compile'], ['get', '/builds'], ['get', '/versions'], ['get', '/errors'],
];

export function algorithmIdRoutes(routes: RouteDef[], algorithms: AlgorithmService): RouteDef[] {
  return ALIASED.map(([method, suffix]) => {
    const def = routes.find((r) => r.method === method && r.path === `${ONE}${suffix}`);
    if (!def) throw new Error(`no route ${method} ${ONE}${suffix} to alias`);
    return {
      ...def,
      path: `/v1/algorithms/{algorithmId}${suffix}`,
      match: (req) => UUID_PATTERN.test(String(req.params.algorithmId)),
      handler: async (req, res) => {
        const a = await algorithms.getById(String(req.params.algorithmId));
        req.params.owner = a.ownerName;
        req.params.name = a.name;
        return def.handler(req, res);
      },
    };
  });
}
