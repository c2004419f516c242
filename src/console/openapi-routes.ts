import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { route, type RouteDef } from '../platform/routes';
import { repoRoot } from './repo-root';

// The contract, served as written (YAML) and as JSON for renderers and code generators. Read once.
export function openapiRoutes(file = path.join(repoRoot(), 'openapi.yaml')): RouteDef[] {
  let text: string | undefined;
  let json: string | undefined;
  const yaml = () => (text ??= fs.readFileSync(file, 'utf8'));
  return [
    route('get', '/openapi.yaml', 'public', (_req, res) => {
      res.type('application/yaml; charset=utf-8').send(yaml());
    }),
    route('get', '/openapi.json', 'public', (_req, res) => {
      json ??= JSON.stringify(YAML.parse(yaml()));
      res.type('application/json').send(json);
    }),
  ];
}
