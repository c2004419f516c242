import { algorithmPath, buildJson, versionJson } from './algorithm-json';
import { target } from './algorithm-routes';
import type { AlgorithmService } from './algorithm-service';
import { type MarkerCodec, pageLink } from './paging';
import { route, type RouteDef } from '../platform/routes';
import type { BuildService } from './build-service';

export interface BuildRouteDeps {
  algorithms: AlgorithmService;
  builds: BuildService;
  markers: MarkerCodec;
  baseUrl: () => string;
}

export function buildRoutes(d: BuildRouteDeps): RouteDef[] {
  const one = '/v1/algorithms/{owner}/{name}';
  return [
    // Whatever the body (Python and Node send {}, Java nothing at all), compile takes the current source.
    route('post', `${one}/compile`, 'manage', async (req, res) => {
      const t = target(req);
      const a = await d.algorithms.get(t.caller, t.owner, t.name);
      res.json(versionJson(a, await d.builds.compile(a), d.baseUrl()));
    }),

    route('get', `${one}/builds`, 'manage', async (req, res) => {
      const t = target(req);
      const a = await d.algorithms.get(t.caller, t.owner, t.name);
      const scope = `builds:${a.id}`;
      const page = d.markers.page(scope, req.query);
      const rows = await d.builds.list(a, page.limit, page.after);
      const base = d.baseUrl();
      res.json(d.markers.paged(scope, page, rows, (v) => v.build.seq, buildJson,
        (marker) => pageLink(base, `${algorithmPath(a)}/builds`, { limit: page.limit, marker })));
    }),

    route('get', `${one}/builds/{build_id}`, 'manage', async (req, res) => {
      const t = target(req);
      const a = await d.algorithms.get(t.caller, t.owner, t.name);
      res.json(buildJson(await d.builds.get(a, String(req.params.build_id))));
    }),

    route('get', `${one}/builds/{build_id}/logs`, 'manage', async (req, res) => {
      const t = target(req);
      const a = await d.algorithms.get(t.caller, t.owner, t.name);
      res.json({ logs: await d.builds.logs(a, String(req.params.build_id)) });
    }),
  ];
}
