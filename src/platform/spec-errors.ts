import type { ErrorObject } from 'ajv';
import { badRequest, ErrorCode, type FieldDetail } from './errors';

// Renders ajv's errors in the API's own style: one detail per field, `field` as part.path
// ("body.settings.environment") and a message that names the field and what it must be. A schema
// may word its own message per keyword (`x-error-message`) and answer another Algorithmia code
// (`x-error-code`, e.g. 5003 for a paging limit).

export type RequestPart = 'params' | 'query' | 'body';

export interface PartErrors {
  part: RequestPart;
  errors: ErrorObject[];
}

/** Throws the one 400 for everything wrong with a request. */
export function throwValidationError(parts: PartErrors[]): never {
  const details: FieldDetail[] = [];
  const codes = new Set<number>();
  for (const { part, errors } of parts) {
    for (const e of shown(errors)) {
      const d = detail(part, e);
      if (!details.some((x) => x.field === d.field && x.message === d.message)) details.push(d);
      codes.add(errorCode(e));
    }
  }
  const code = codes.size === 1 ? [...codes][0] : ErrorCode.InputValidationError;
  throw badRequest(`The request is invalid: ${details.map((d) => d.message).join('; ')}`, code, details);
}

/** Drops what only explains another error: `if` (its branch reports), and the branches of a failed oneOf/anyOf. */
function shown(errors: ErrorObject[]): ErrorObject[] {
  const unions = errors.filter((e) => e.keyword === 'oneOf' || e.keyword === 'anyOf').map((e) => `${e.schemaPath}/`);
  return errors.filter((e) => e.keyword !== 'if' && !unions.some((u) => e.schemaPath.startsWith(u)));
}

function detail(part: RequestPart, e: ErrorObject): FieldDetail {
  const path = e.instancePath
    .split('/')
    .slice(1)
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
  const p = e.params as Record<string, unknown>;
  if (e.keyword === 'required') path.push(String(p.missingProperty));
  if (e.keyword === 'additionalProperties') path.push(String(p.additionalProperty));
  const label = path.length ? path.join('.') : part;
  return { field: [part, ...path].join('.'), message: `'${label}' ${predicate(e)}` };
}

function errorCode(e: ErrorObject): number {
  const code = (e.parentSchema as Record<string, unknown> | undefined)?.['x-error-code'];
  return typeof code === 'number' && e.keyword !== 'required' ? code : ErrorCode.InputValidationError;
}

function predicate(e: ErrorObject): string {
  const custom = (e.parentSchema as Record<string, unknown> | undefined)?.['x-error-message'];
  if (custom && typeof custom === 'object' && e.keyword !== 'required' && e.keyword !== 'additionalProperties') {
    const m = (custom as Record<string, unknown>)[e.keyword];
    if (typeof m === 'string') return m;
  }
  const p = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'required':
      return 'is required';
    case 'additionalProperties':
      return 'is not allowed';
    case 'type':
      return `must be ${typeWords(p.type)}`;
    case 'enum':
      return `must be one of [${(p.allowedValues as unknown[]).map(String).join(', ')}]`;
    case 'const':
      return `must be ${JSON.stringify(p.allowedValue)}`;
    case 'pattern':
      return `must match the pattern ${String(p.pattern)}`;
    case 'format':
      return `must be ${FORMAT_WORDS[String(p.format)] ?? `a valid ${String(p.format)}`}`;
    case 'maxLength':
      return `must be at most ${p.limit} characters long`;
    case 'minLength':
      return p.limit === 1 ? 'must not be empty' : `must be at least ${p.limit} characters long`;
    case 'maximum':
      return `must be at most ${p.limit}`;
    case 'minimum':
      return `must be at least ${p.limit}`;
    case 'exclusiveMaximum':
      return `must be less than ${p.limit}`;
    case 'exclusiveMinimum':
      return `must be more than ${p.limit}`;
    case 'maxItems':
      return `must have at most ${p.limit} items`;
    case 'minItems':
      return `must have at least ${p.limit} items`;
    case 'maxProperties':
      return p.limit === 0 ? 'must be empty' : `must have at most ${p.limit} entries`;
    case 'minProperties':
      return `must have at least ${p.limit} entries`;
    case 'oneOf':
    case 'anyOf':
      return 'does not match any of the allowed forms';
    case 'not':
      return 'is not allowed';
    default:
      return e.message ?? 'is invalid';
  }
}

const FORMAT_WORDS: Record<string, string> = {
  uuid: 'a UUID',
  email: 'a valid email address',
  'date-time': 'an ISO 8601 date-time with a time zone (e.g. 2030-01-31T12:00:00Z)',
};

function typeWords(type: unknown): string {
  const words: Record<string, string> = {
    string: 'a string',
    number: 'a number',
    integer: 'an integer',
    boolean: 'a boolean (true or false)',
    object: 'an object',
    array: 'an array',
    null: 'null',
  };
  return String(type)
    .split(',')
    .map((t) => words[t] ?? t)
    .join(' or ');
}
