import assert from 'node:assert/strict';
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import type { Middleware } from 'openapi-fetch';
import { loadOpenApiDocument } from '../../src/platform/openapi-document';
import { refsInto } from '../../src/platform/spec-validate';

/** openapi.yaml, as the service loads it. */
export const spec = loadOpenApiDocument().doc;

const ajv = new Ajv2020({ strict: false, allErrors: true });
addFormats(ajv);
ajv.addSchema({ $id: 'spec', components: spec.components }, 'spec');

/** Every (method, path) the spec documents, e.g. "post /v1/algo/{owner}/{name}". */
export function specOperations(): string[] {
  const out: string[] = [];
  for (const [p, item] of Object.entries<Record<string, unknown>>(spec.paths)) {
    for (const m of ['get', 'put', 'post', 'delete', 'patch']) if (item[m]) out.push(`${m} ${p}`);
  }
  return out.sort();
}

function responseSchema(method: string, pathTemplate: string, status: number): unknown {
  const op = spec.paths?.[pathTemplate]?.[method.toLowerCase()];
  assert.ok(op, `openapi.yaml has no operation ${method} ${pathTemplate}`);
  let resp = op.responses?.[String(status)] ?? op.responses?.default;
  assert.ok(resp, `openapi.yaml documents no ${status} reply for ${method} ${pathTemplate}`);
  if (resp.$ref) resp = spec.components.responses[resp.$ref.split('/').pop()];
  const content = resp.content ?? {};
  const media = content['application/json'] ?? Object.values(content)[0];
  return media?.schema;
}

/** Asserts a supertest response body matches the schema the spec documents for its status. */
export function assertMatchesSpec(method: string, pathTemplate: string, res: { status: number; body: unknown }): void {
  const schema = responseSchema(method, pathTemplate, res.status);
  if (!schema) return; // documented without a body (e.g. 204)
  const validateFn = ajv.compile(rewriteRefs(schema) as object);
  const ok = validateFn(res.body);
  assert.ok(ok, `${method} ${pathTemplate} ${res.status} body does not match openapi.yaml: ${ajv.errorsText(validateFn.errors)}\n${JSON.stringify(res.body).slice(0, 2000)}`);
}

function requestSchema(method: string, pathTemplate: string, contentType: string): unknown {
  const op = spec.paths?.[pathTemplate]?.[method.toLowerCase()];
  assert.ok(op, `openapi.yaml has no operation ${method} ${pathTemplate}`);
  const content = op.requestBody?.content;
  assert.ok(content, `openapi.yaml documents no request body for ${method} ${pathTemplate}`);
  const media = content[contentType.split(';')[0].trim().toLowerCase()];
  assert.ok(media, `openapi.yaml documents no ${contentType} request body for ${method} ${pathTemplate}`);
  return media.schema;
}

/** Asserts a request body is one the spec documents (the counterpart of assertMatchesSpec for what clients send). */
export function assertRequestMatchesSpec(method: string, pathTemplate: string, body: unknown, contentType = 'application/json'): void {
  const schema = requestSchema(method, pathTemplate, contentType);
  if (!schema || !/json/.test(contentType)) return;
  const validateFn = ajv.compile(rewriteRefs(schema) as object);
  assert.ok(validateFn(body), `${method} ${pathTemplate} request body does not match openapi.yaml: ${ajv.errorsText(validateFn.errors)}\n${JSON.stringify(body).slice(0, 2000)}`);
}

/**
 * Middleware for the typed client (src/client): every JSON request body and every reply is checked
 * against openapi.yaml. Tests that send bad input on purpose pass checkRequests: false.
 */
export function specChecks(opts: { checkRequests?: boolean } = {}): Middleware {
  return {
    async onRequest({ request, schemaPath }) {
      const type = request.headers.get('content-type') ?? '';
      if (opts.checkRequests !== false && request.body && /json/.test(type)) {
        assertRequestMatchesSpec(request.method, schemaPath, await request.clone().json(), type);
      }
      return undefined;
    },
    async onResponse({ request, response, schemaPath }) {
      const type = response.headers.get('content-type') ?? '';
      const text = await response.clone().text();
      const body = /json/.test(type) && text !== '' ? JSON.parse(text) : text;
      assertMatchesSpec(request.method, schemaPath, { status: response.status, body });
      return undefined;
    },
  };
}

// Component refs point into the registered 'spec' document.
const rewriteRefs = (schema: unknown): unknown => refsInto('spec', schema);

/** Asserts a body is the one documented error shape. */
export function assertErrorShape(body: unknown): void {
  const validateFn = ajv.getSchema('spec#/components/schemas/Error');
  assert.ok(validateFn, 'openapi.yaml has no Error schema');
  assert.ok(validateFn(body), `not the documented error shape: ${ajv.errorsText(validateFn.errors)}: ${JSON.stringify(body).slice(0, 500)}`);
}
