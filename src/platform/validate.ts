import type { NextFunction, Request, Response } from 'express';
import type Joi from 'joi';
import { badRequest, ErrorCode, type FieldDetail } from './errors';

/**
 * The joi check of what openapi.yaml cannot say (a source tree's paths, broker lists, CA
 * certificates), run after the spec's check (spec-validate.ts). Handlers read the converted values.
 */
export function validate(schemas: { params?: Joi.Schema; query?: Joi.Schema; body?: Joi.Schema }) {
  return (req: Request, _res: Response, next: NextFunction) => {
    const details: FieldDetail[] = [];
    const out: Record<string, unknown> = {};
    for (const part of ['params', 'query', 'body'] as const) {
      const schema = schemas[part];
      if (!schema) continue;
      const { value, error } = schema.validate(req[part] ?? {}, { abortEarly: false, convert: true });
      if (error) {
        for (const d of error.details) {
          details.push({ field: [part, ...d.path].join('.'), message: d.message.replace(/"/g, "'") });
        }
      } else {
        out[part] = value;
      }
    }
    if (details.length > 0) {
      throw badRequest(`The request is invalid: ${details.map((d) => d.message).join('; ')}`, ErrorCode.InputValidationError, details);
    }
    for (const [part, value] of Object.entries(out)) {
      // express 5 exposes req.query as a getter: shadow it on the instance.
      Object.defineProperty(req, part, { value, writable: true, configurable: true, enumerable: true });
    }
    next();
  };
}
