import fc from 'fast-check';

// Turns the request schemas in openapi.yaml into fast-check arbitraries: valid values, boundary
// values, and hostile ones (wrong types, huge strings, deep nesting, odd characters).

type Schema = Record<string, any>;

const hostileString = fc.oneof(
  fc.constantFrom('', ' ', '..', '../../etc/passwd', '/etc/passwd', 'a'.repeat(300), '\u0000', 'null', '<script>', '%00', '😀', '\ud800', 'Robert\'); DROP TABLE users;--', '1e309', '-0', 'NaN'),
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
);

const deep = (depth: number): unknown => (depth === 0 ? 1 : { a: [deep(depth - 1)] });

export const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  hostileString,
  fc.integer(),
  fc.constantFrom(0, -1, 1e9, 10 ** 6, Number.MAX_SAFE_INTEGER, 1.5, true, false, null),
  fc.constant(deep(200)),
  fc.array(fc.anything({ maxDepth: 3 }), { maxLength: 5 }),
  fc.object({ maxDepth: 2 }),
);

function resolve(schema: Schema, root: Schema): Schema {
  let s = schema;
  for (let i = 0; s?.$ref && i < 10; i++) {
    s = s.$ref.split('/').slice(1).reduce((o: any, k: string) => o?.[k], root);
  }
  return s ?? {};
}

export function validArbitrary(schema: Schema, root: Schema, depth = 0): fc.Arbitrary<unknown> {
  const s = resolve(schema, root);
  if (depth > 4) return fc.constant(null);
  if (s.const !== undefined) return fc.constant(s.const);
  if (s.enum) return fc.constantFrom(...s.enum);
  if (s.oneOf || s.anyOf) return fc.oneof(...(s.oneOf ?? s.anyOf).map((x: Schema) => validArbitrary(x, root, depth + 1)));
  const type = Array.isArray(s.type) ? s.type[0] : s.type;
  switch (type) {
    case 'string':
      if (s.pattern === '^[a-zA-Z][a-zA-Z0-9_]*$') return fc.stringMatching(/^[a-z][a-z0-9_]{0,12}$/);
      if (s.format === 'email') return fc.constant('someone@example.com');
      if (s.format === 'uuid') return fc.uuid();
      return fc.string({ maxLength: Math.min(s.maxLength ?? 30, 30) });
    case 'integer':
      return fc.integer({ min: s.minimum ?? 0, max: Math.min(s.maximum ?? 1000, 1000) });
    case 'number':
      return fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e6, max: 1e6 });
    case 'boolean':
      return fc.boolean();
    case 'array':
      return fc.array(validArbitrary(s.items ?? {}, root, depth + 1), { maxLength: 3 });
    case 'object':
    default: {
      const props: Record<string, Schema> = s.properties ?? {};
      const required: string[] = s.required ?? [];
      const entries = Object.fromEntries(Object.entries(props).map(([k, v]) => [k, validArbitrary(v, root, depth + 1)]));
      if (Object.keys(entries).length === 0) return fc.constant({});
      return fc.record(entries, { requiredKeys: required.filter((k) => k in entries) });
    }
  }
}

/** A valid value with (sometimes) one field replaced by something hostile, or something hostile outright. */
export function mutatedArbitrary(schema: Schema, root: Schema): fc.Arbitrary<unknown> {
  const valid = validArbitrary(schema, root);
  return fc.oneof(
    { weight: 3, arbitrary: valid },
    {
      weight: 4,
      arbitrary: fc.tuple(valid, fc.string({ maxLength: 12 }), hostileValue).map(([v, key, bad]) => {
        if (v && typeof v === 'object' && !Array.isArray(v)) {
          const keys = Object.keys(v);
          const k = keys.length > 0 ? keys[Math.abs(hashCode(key)) % keys.length] : key;
          return { ...(v as object), [k]: bad };
        }
        return bad;
      }),
    },
    { weight: 2, arbitrary: hostileValue },
  );
}

function hashCode(s: string): number {
  let h = 0;
  for (let i = 0; i < s.length; i++) h = (h * 31 + s.charCodeAt(i)) | 0;
  return h;
}
