import type { Request } from 'express';
import type { BuildService } from './build-service';
import { entryPath, LANGUAGES } from '../platform/language-catalogue';
import { route, type RouteDef } from '../platform/routes';
import { ApiError, ErrorCode } from '../platform/errors';
import { algorithmJson } from './algorithm-json';
import { sourceBody } from './algorithm-schemas';
import type { AlgorithmService } from './algorithm-service';
import type { Algorithm } from './algorithm-store';
import { SOURCE_LIMITS } from '../platform/source-tree';
import { environmentFor, environmentJson, languageJson, languageNamed } from './environments';
import { type MarkerCodec, pageLink } from './paging';
import type { SourceFiles } from '../platform/source-tree';

export interface AlgorithmRouteDeps {
  algorithms: AlgorithmService;
  builds: BuildService;
  markers: MarkerCodec;
  baseUrl: () => string;
}

/** The owner and name in the path, and who is asking (the 'manage' level guarantees a caller). */
export const target = (req: Request) => ({ caller: req.principal!, owner: String(req.params.owner), name: String(req.params.name) });

// Algorithmia's Python client tests for this exact body; elsewhere errors keep the object form.
const noSuchAlgorithm = () => new ApiError(404, ErrorCode.AlgorithmNotFound, 'No such algorithm', undefined, { error: 'No such algorithm' });

const sourceJson = (a: Algorithm, s: { files: SourceFiles; updatedAt: Date }) => ({
  language: a.language,
  entry_point: entryPath(a.language, a.name),
  updated_at: s.updatedAt.toISOString(),
  files: s.files,
});

export function algorithmRoutes(d: AlgorithmRouteDeps): RouteDef[] {
  const one = '/v1/algorithms/{owner}/{name}';
  return [
    route('get', '/v1/algorithm-environments/edge/languages', 'manage', (_req, res) => {
      res.json(LANGUAGES.map(languageJson));
    }),
    route('get', '/v1/algorithm-environments/edge/languages/{language}/environments', 'manage', (req, res) => {
      res.json({ environments: [environmentJson(environmentFor(languageNamed(String(req.params.language))))] });
    }),

    route('post', '/v1/algorithms/{owner}', 'manage', async (req, res) => {
      const a = await d.algorithms.create(req.principal!, String(req.params.owner), req.body);
      res.status(201).json(algorithmJson(a, d.baseUrl()));
    }),

    route('get', '/v1/users/{username}/algorithms', 'manage', async (req, res) => {
      const username = String(req.params.username);
      const scope = `algorithms:${req.principal!.userId}`;
      const page = d.markers.page(scope, req.query);
      const rows = await d.algorithms.list(req.principal!, username, page.limit, page.after);
      const base = d.baseUrl();
      res.json(d.markers.paged(scope, page, rows, (a) => a.name.toLowerCase(), (a) => algorithmJson(a, base),
        (marker) => pageLink(base, `/v1/users/${username}/algorithms`, { limit: page.limit, marker })));
    }),

    route('get', one, 'manage', async (req, res) => {
      const t = target(req);
      const a = await d.algorithms.findVisible(t.caller, t.owner, t.name);
      if (!a) throw noSuchAlgorithm();
      // Another user's public algorithm: its description, not its builds.
      const own = a.ownerId === t.caller.userId;
      res.json(algorithmJson(a, d.baseUrl(), own ? await d.builds.latest(a) : undefined));
    }),

    route('put', one, 'manage', async (req, res) => {
      const t = target(req);
      const a = await d.algorithms.update(t.caller, t.owner, t.name, req.body);
      res.json(algorithmJson(a, d.baseUrl(), await d.builds.latest(a)));
    }),

    route('delete', one, 'manage', async (req, res) => {
      const t = target(req);
      await d.algorithms.delete(t.caller, t.owner, t.name);
      res.status(204).end();
    }),

    route('get', `${one}/source`, 'manage', async (req, res) => {
      const t = target(req);
      const { algorithm, source } = await d.algorithms.getSource(t.caller, t.owner, t.name);
      res.json(sourceJson(algorithm, source));
    }),

    // A whole tree may be 5 MiB of text, more once JSON-escaped; the tree rules are in sourceBody.
    route('put', `${one}/source`, 'manage', async (req, res) => {
      const t = target(req);
      const { algorithm, source } = await d.algorithms.replaceSource(t.caller, t.owner, t.name, req.body.files);
      res.json(sourceJson(algorithm, source));
    }, { validate: { body: sourceBody }, bodyLimit: '12mb', bodyShape: { maxEntries: SOURCE_LIMITS.maxFiles, maxKeyLength: SOURCE_LIMITS.maxPathLength, maxDepth: 3 } }),

    // Beacon hosts the source itself, so the connection to it is always up.
    route('get', `${one}/scm/status`, 'manage', async (req, res) => {
      const t = target(req);
      await d.algorithms.get(t.caller, t.owner, t.name);
      res.json({ scm_connection_status: 'active' });
    }),
  ];
}
