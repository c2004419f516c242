import type { Request, Response } from 'express';
import type { operations } from '../generated/openapi-types';
import { route, type RouteDef } from '../platform/routes';
import { algorithmPath, versionJson } from './algorithm-json';
import { target } from './algorithm-routes';
import type { AlgorithmService } from './algorithm-service';
import { type MarkerCodec, pageLink } from './paging';
import type { VersionService } from './version-service';

export interface VersionRouteDeps {
  algorithms: AlgorithmService;
  versions: VersionService;
  markers: MarkerCodec;
  baseUrl: () => string;
}

export function versionRoutes(d: VersionRouteDeps): RouteDef[] {
  const one = '/v1/algorithms/{owner}/{name}';

  const publish = async (req: Request, res: Response) => {
    const t = target(req);
    const a = await d.algorithms.get(t.caller, t.owner, t.name);
    res.json(versionJson(a, await d.versions.publish(a, req.body), d.baseUrl()));
  };

  return [
    // Python and R publish on /versions; Java, the Node TS client and the 2020 Insights docs on /version.
    route('post', `${one}/versions`, 'manage', publish),
    route('post', `${one}/version`, 'manage', publish),

    route('get', `${one}/versions`, 'manage', async (req, res) => {
      const t = target(req);
      const a = await d.algorithms.get(t.caller, t.owner, t.name);
      const scope = `versions:${a.id}`;
      const page = d.markers.page(scope, req.query);
      const { published, callable } = req.query as NonNullable<operations['listVersions']['parameters']['query']>;
      const rows = await d.versions.list(a, { published, callable }, page.limit, page.after);
      const base = d.baseUrl();
      res.json(d.markers.paged(scope, page, rows, (v) => v.build.seq, (v) => versionJson(a, v, base),
        (marker) => pageLink(base, `${algorithmPath(a)}/versions`, { limit: page.limit, published, callable, marker })));
    }),

    route('get', `${one}/versions/{version}`, 'manage', async (req, res) => {
      const t = target(req);
      const a = await d.algorithms.get(t.caller, t.owner, t.name);
      res.json(versionJson(a, await d.versions.get(a, String(req.params.version)), d.baseUrl()));
    }),
  ];
}
