import express, { type NextFunction, type Request, type RequestHandler, type Response, Router } from 'express';
import type Joi from 'joi';
import { type AuthLevel, type Authenticator, requireLevel } from './auth';
import { contractValidator, type SpecValidator } from './spec-validate';
import { checkBody, checkJsonShape, DEFAULT_BODY_LIMITS, type BodyLimits } from './text-hygiene';
import { validate } from './validate';

/**
 * One line per route: method, OpenAPI-style path, who may call it, how the body is read, and the
 * handler. Every route is an operation of openapi.yaml, and its parameters and JSON body are checked
 * against it before the handler runs (spec-validate.ts). The same tables feed express and the
 * spec-coverage test.
 */
export interface RouteDef {
  method: 'get' | 'post' | 'put' | 'delete';
  path: string;
  auth: AuthLevel;
  /** json: any Content-Type is read as JSON (curl's default form type included); none: the handler reads the body itself, if at all. */
  body?: 'json' | 'none';
  /** Overrides the JSON size limit for this route (e.g. whole source trees), as '12mb'. */
  bodyLimit?: string;
  /** Structure bounds of the JSON body, checked before it is validated (defaults: DEFAULT_BODY_LIMITS). */
  bodyShape?: Partial<BodyLimits>;
  /**
   * Only what openapi.yaml cannot say (a source tree's paths, broker lists, CA certificates): run
   * after the spec's check passed, and its converted values replace the input.
   */
  validate?: { params?: Joi.Schema; query?: Joi.Schema; body?: Joi.Schema };
  /** When it answers false the route steps aside for the next one with a matching path (e.g. a UUID segment). */
  match?: (req: Request) => boolean;
  handler: (req: Request, res: Response) => unknown;
}

export interface RouteOptions {
  authenticator: Authenticator;
  jsonLimit: string;
  /** What requests are checked against (default: the service's openapi.yaml). */
  spec?: SpecValidator;
}

export const toExpressPath = (p: string): string => p.replace(/\{(\w+)\}/g, ':$1');

export function route(
  method: RouteDef['method'],
  path: string,
  auth: AuthLevel,
  handler: RouteDef['handler'],
  extra: Omit<RouteDef, 'method' | 'path' | 'auth' | 'handler'> = {},
): RouteDef {
  return { method, path, auth, handler, ...extra };
}

export function mountRoutes(routes: RouteDef[], opts: RouteOptions): Router {
  const router = Router();
  const spec = opts.spec ?? contractValidator();
  // The raw bytes' shape is checked before JSON.parse runs (verify is called with them first).
  const jsonParser = (limit: string, shape: BodyLimits) =>
    express.json({ type: () => true, limit, strict: false, verify: (_req, _res, buf) => checkJsonShape(buf, shape) });
  for (const def of routes) {
    const chain: RequestHandler[] = [authenticate(def.auth, opts.authenticator)];
    const match = def.match;
    if (match) chain.unshift((req, _res, next) => (match(req) ? next() : next('route')));
    const bodyKind = def.body ?? (def.method === 'get' || def.method === 'delete' ? 'none' : 'json');
    if (bodyKind === 'json') {
      const shape = { ...DEFAULT_BODY_LIMITS, ...def.bodyShape };
      chain.push(jsonParser(def.bodyLimit ?? opts.jsonLimit, shape), emptyBodyAsObject, (req, _res, next) => {
        checkBody(req.body, shape);
        next();
      });
    }
    chain.push(spec.middleware(def.method, def.path, { jsonBody: bodyKind === 'json' }));
    if (def.validate) chain.push(validate(def.validate));
    chain.push(async (req, res) => {
      await def.handler(req, res);
    });
    router[def.method](toExpressPath(def.path), ...chain);
  }
  return router;
}

function authenticate(level: AuthLevel, authenticator: Authenticator): RequestHandler {
  return async (req: Request, _res: Response, next: NextFunction) => {
    if (level === 'public') return next();
    req.principal = await authenticator.authenticate(req.header('authorization'));
    requireLevel(level, req.principal);
    next();
  };
}

// Node TS client and Java send empty bodies on POST; an absent body is an empty object.
function emptyBodyAsObject(req: Request, _res: Response, next: NextFunction): void {
  if (req.body === undefined || (Buffer.isBuffer(req.body) && req.body.length === 0)) req.body = {};
  next();
}
