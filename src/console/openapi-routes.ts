import { loadOpenApiDocument, type OpenApiDocument } from '../platform/openapi-document';
import { route, type RouteDef } from '../platform/routes';

// The contract, served as written (YAML) and as JSON for renderers and code generators. The same
// document the request validator uses (src/platform/spec-validate.ts), read once.
export function openapiRoutes(contract: OpenApiDocument = loadOpenApiDocument()): RouteDef[] {
  let json: string | undefined;
  return [
    route('get', '/openapi.yaml', 'public', (_req, res) => {
      res.type('application/yaml; charset=utf-8').send(contract.text);
    }),
    route('get', '/openapi.json', 'public', (_req, res) => {
      json ??= JSON.stringify(contract.doc);
      res.type('application/json').send(json);
    }),
  ];
}
