import type { NextFunction, Request, RequestHandler, Response } from 'express';
import Ajv2020, { type ErrorObject, type ValidateFunction } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { loadOpenApiDocument, type OpenApiDocument } from './openapi-document';
import { type PartErrors, throwValidationError } from './spec-errors';

// Requests are validated against openapi.yaml, the one description of what they may hold: each
// route's path parameters, query parameters and JSON body, compiled once per operation with ajv.
// Parameters arrive as strings and are converted to the documented types; bodies are JSON and keep
// theirs. Documented defaults are filled in. What the spec cannot say (a source tree's paths, a
// broker list, a CA certificate) is left to the route's own check (RouteDef.validate).

const SPEC_ID = 'beacon-openapi';
type Json = Record<string, unknown>;

interface OperationChecks {
  params?: ValidateFunction;
  query?: ValidateFunction;
  body?: ValidateFunction;
  /** Query parameters documented as booleans: 'True', 'FALSE', '1' and '0' are read as true/false. */
  booleans: string[];
}

export class SpecValidator {
  /** Parameters: strings become the documented number, integer or boolean. */
  private readonly params: Ajv2020;
  /** JSON bodies: no conversion; a string is not a number. */
  private readonly bodies: Ajv2020;
  private readonly compiled = new Map<string, OperationChecks>();

  constructor(private readonly contract: OpenApiDocument = loadOpenApiDocument()) {
    const components = rewriteRefs(contract.doc.components ?? {});
    this.params = newAjv(true);
    this.bodies = newAjv(false);
    for (const ajv of [this.params, this.bodies]) ajv.addSchema({ $id: SPEC_ID, components }, SPEC_ID);
  }

  /** The check of one route (compiled now); a route the spec does not document is refused at start-up. */
  middleware(method: string, path: string, opts: { jsonBody: boolean }): RequestHandler {
    const checks = this.checks(method, path, opts.jsonBody);
    return (req: Request, _res: Response, next: NextFunction) => {
      const failed: PartErrors[] = [];
      const out: Partial<Record<'params' | 'query', Json>> = {};
      const run = (part: PartErrors['part'], fn: ValidateFunction | undefined, value: unknown) => {
        if (!fn) return;
        if (fn(value)) return true;
        failed.push({ part, errors: [...((fn.errors ?? []) as ErrorObject[])] });
        return false;
      };
      const params = { ...req.params } as Json;
      if (run('params', checks.params, params)) out.params = params;
      const query = readBooleans({ ...(req.query as Json) }, checks.booleans);
      if (run('query', checks.query, query)) out.query = query;
      // The body was parsed for this request alone: converted and defaulted in place.
      run('body', checks.body, req.body);
      if (failed.length > 0) throwValidationError(failed);
      for (const [part, value] of Object.entries(out)) {
        // express 5 exposes req.query as a getter: shadow it on the instance.
        Object.defineProperty(req, part, { value, writable: true, configurable: true, enumerable: true });
      }
      next();
    };
  }

  private checks(method: string, path: string, jsonBody: boolean): OperationChecks {
    const key = `${method} ${path} ${jsonBody}`;
    let c = this.compiled.get(key);
    if (!c) {
      c = this.compile(method, path, jsonBody);
      this.compiled.set(key, c);
    }
    return c;
  }

  private compile(method: string, path: string, jsonBody: boolean): OperationChecks {
    const item = this.contract.doc.paths?.[path];
    const op = item?.[method];
    if (!op) throw new Error(`${method.toUpperCase()} ${path} is not in ${this.contract.file}: document it before serving it`);
    // Operation parameters override the path item's of the same name and location.
    const byKey = new Map<string, Json>();
    for (const p of [...(item.parameters ?? []), ...(op.parameters ?? [])].map((x: Json) => this.deref(x))) {
      byKey.set(`${p.in} ${p.name}`, p);
    }
    const all = [...byKey.values()];
    const group = (where: string) => all.filter((p) => p.in === where);
    const objectOf = (ps: Json[], closed = false) => ({
      type: 'object',
      properties: Object.fromEntries(ps.map((p) => [p.name, rewriteRefs(p.schema ?? {})])),
      required: ps.filter((p) => p.required).map((p) => p.name),
      // Query parameters an operation does not list pass, unless it says x-strict-query.
      ...(closed ? { additionalProperties: false } : {}),
    });
    const pathParams = group('path');
    const queryParams = group('query');
    const bodySchema = jsonBody ? op.requestBody?.content?.['application/json']?.schema : undefined;
    return {
      params: pathParams.length ? this.params.compile(objectOf(pathParams)) : undefined,
      query: queryParams.length ? this.params.compile(objectOf(queryParams, op['x-strict-query'] === true)) : undefined,
      body: bodySchema ? this.bodies.compile(rewriteRefs(bodySchema) as Json) : undefined,
      booleans: queryParams.filter((p) => this.deref(p.schema as Json).type === 'boolean').map((p) => String(p.name)),
    };
  }

  /** Follows a local $ref ('#/components/...') in the contract. */
  private deref(x: Json | undefined): Json {
    let node = x;
    for (let hops = 0; node && typeof node.$ref === 'string' && hops < 10; hops++) {
      const ref: string = node.$ref as string;
      node = ref
        .replace(/^#\//, '')
        .split('/')
        .reduce((o: Json | undefined, k) => o?.[k] as Json | undefined, this.contract.doc as Json);
    }
    return node ?? {};
  }
}

let standard: SpecValidator | undefined;
/** The validator of the service's own openapi.yaml (compiled once per process). */
export const contractValidator = (): SpecValidator => (standard ??= new SpecValidator());

function newAjv(coerce: boolean): Ajv2020 {
  const ajv = new Ajv2020({
    strict: false, // OpenAPI's own keywords (example, ...) sit among the JSON Schema ones
    allErrors: true,
    verbose: true, // errors carry their schema: x-error-message and x-error-code are read there
    useDefaults: true,
    coerceTypes: coerce,
    logger: false,
  });
  addFormats(ajv);
  ajv.addKeyword({ keyword: 'x-error-message' });
  ajv.addKeyword({ keyword: 'x-error-code', schemaType: 'number' });
  // joi's .insensitive(): 'MAJOR' and 'Cpu' stand for the enum's 'major' and 'cpu' from here on.
  ajv.addKeyword({
    keyword: 'x-case-insensitive',
    schemaType: 'boolean',
    modifying: true,
    before: 'enum',
    errors: false,
    validate: (on: boolean, data: unknown, parentSchema?: Json, cxt?: { parentData: Json; parentDataProperty: string | number }) => {
      if (!on || typeof data !== 'string' || !cxt?.parentData || !Array.isArray(parentSchema?.enum)) return true;
      const match = (parentSchema.enum as unknown[]).find((e) => typeof e === 'string' && e.toLowerCase() === data.toLowerCase());
      if (match !== undefined) cxt.parentData[cxt.parentDataProperty] = match;
      return true;
    },
  });
  return ajv;
}

/** Clients send Python's True/False and 1/0 in query strings; JSON Schema's boolean coercion knows 'true'/'false' only. */
function readBooleans(query: Json, names: string[]): Json {
  for (const n of names) {
    const v = query[n];
    if (typeof v !== 'string') continue;
    const lower = v.toLowerCase();
    query[n] = lower === '1' ? 'true' : lower === '0' ? 'false' : lower;
  }
  return query;
}

const rewriteRefs = (s: unknown): unknown => refsInto(SPEC_ID, s);

/**
 * A schema cut out of the contract, with its local refs ('#/components/...') pointing into the
 * contract registered with ajv under `id` (also how the tests check replies against the spec).
 */
export function refsInto(id: string, s: unknown): unknown {
  if (Array.isArray(s)) return s.map((x) => refsInto(id, x));
  if (s && typeof s === 'object') {
    const o: Json = {};
    for (const [k, v] of Object.entries(s)) o[k] = k === '$ref' && typeof v === 'string' && v.startsWith('#/') ? `${id}${v}` : refsInto(id, v);
    return o;
  }
  return s;
}
