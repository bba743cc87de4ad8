/**
 * Input generators shared by the fuzzers: hostile strings and numbers, values that satisfy a
 * JSON schema from the OpenAPI document, and mutations of those values (a field dropped, retyped,
 * replaced by something hostile, an unknown field added, the body replaced or cut short).
 */
import fc from 'fast-check';

/** Strings that broke or could break a parser, a database or a path: each chosen for a reason. */
export const HOSTILE_STRINGS = [
  '',
  ' ',
  'a\u0000b', // PostgreSQL text cannot hold U+0000
  '\u0000',
  '\ud800', // a lone surrogate: not valid UTF-8, and `\ud800` is refused by jsonb
  'x\udfffy',
  '\ud83d\ude00', // an emoji: two UTF-16 units, one code point
  'e\u0301', // a combining mark
  '\u202eevil', // right-to-left override
  '\u2028\u2029', // JSON-legal, JavaScript-hostile line separators
  '\uffff\ufeff',
  '\r\n\t\u0007\u001b[31m',
  "' OR 1=1 --",
  '"; DROP TABLE users; --',
  '<script>alert(1)</script>',
  '../../../../etc/passwd',
  '%00%2e%2e%2f',
  '${jndi:ldap://x}',
  '__proto__',
  'constructor',
  'NaN',
  '-1',
  '1e309',
  '9'.repeat(40),
  'null',
  'x'.repeat(5_000),
  'é'.repeat(300),
] as const;

export const hostileString = (): fc.Arbitrary<string> =>
  fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(...HOSTILE_STRINGS) },
    { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
    { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 300 }) },
    // Any UTF-16 units, lone surrogates included.
    { weight: 1, arbitrary: fc.array(fc.integer({ min: 0, max: 0xffff }), { maxLength: 20 }).map((units) => String.fromCharCode(...units)) },
  );

export const hostileNumber = (): fc.Arbitrary<number> =>
  fc.oneof(
    fc.constantFrom(0, -0, -1, 1, 0.5, -1.5, 2 ** 31, 2 ** 53, 2 ** 63, -(2 ** 63), 1e308, -1e308, Number.MAX_SAFE_INTEGER, Number.MIN_VALUE),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.integer(),
  );

/** Any JSON value, with hostile strings and numbers among the ordinary ones. */
export const hostileJson = (): fc.Arbitrary<unknown> =>
  fc.letrec<{ value: unknown }>((tie) => ({
    value: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      hostileString(),
      hostileNumber(),
      fc.boolean(),
      fc.constant(null),
      fc.array(tie('value'), { maxLength: 4 }),
      fc.dictionary(fc.oneof(fc.string({ maxLength: 8 }), fc.constantFrom('__proto__', 'constructor', 'type', 'id')), tie('value'), { maxKeys: 4 }),
    ),
  })).value;

/** The part of JSON Schema the OpenAPI document uses. */
export interface JsonSchema {
  type?: string | string[];
  enum?: unknown[];
  const?: unknown;
  nullable?: boolean;
  format?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  minItems?: number;
  maxItems?: number;
  items?: JsonSchema;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean | JsonSchema;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  allOf?: JsonSchema[];
  default?: unknown;
}

const DAY_MS = 86_400_000;

/** Values the schema accepts (strings and arrays kept short, so requests stay cheap). */
export function fromSchema(schema: JsonSchema | undefined): fc.Arbitrary<unknown> {
  if (!schema) return hostileJson();
  const base = nonNull(schema);
  return schema.nullable ? fc.option(base, { nil: null, freq: 5 }) : base;
}

function nonNull(schema: JsonSchema): fc.Arbitrary<unknown> {
  if (schema.const !== undefined) return fc.constant(schema.const);
  if (schema.enum) return fc.constantFrom(...schema.enum);
  const variants = schema.anyOf ?? schema.oneOf;
  if (variants) return fc.oneof(...variants.map(fromSchema));
  if (schema.allOf?.[0]) return fromSchema(schema.allOf[0]);
  const type = Array.isArray(schema.type) ? schema.type.find((t) => t !== 'null') : schema.type;
  switch (type) {
    case 'string':
      if (schema.format === 'date-time') {
        // Around now: past, near future and far future all mean something to expiry checks.
        const now = Date.now();
        return fc.integer({ min: now - 400 * DAY_MS, max: now + 4000 * DAY_MS }).map((ms) => new Date(ms).toISOString());
      }
      if (schema.format === 'email') return fc.emailAddress();
      if (schema.format === 'uuid') return fc.uuid();
      return fc.string({ unit: 'grapheme', minLength: schema.minLength ?? 0, maxLength: Math.min(schema.maxLength ?? 40, Math.max(40, schema.minLength ?? 0)) });
    case 'integer':
      return fc.integer({ min: Math.max(schema.minimum ?? -1000, -(2 ** 31)), max: Math.min(schema.maximum ?? 1000, 2 ** 31 - 1) });
    case 'number':
      return fc.double({ min: schema.minimum ?? -1e6, max: schema.maximum ?? 1e6, noNaN: true });
    case 'boolean':
      return fc.boolean();
    case 'array':
      return fc.array(fromSchema(schema.items), { minLength: schema.minItems ?? 0, maxLength: Math.min(schema.maxItems ?? 4, Math.max(4, schema.minItems ?? 0)) });
    case 'object': {
      const properties = schema.properties ?? {};
      const model = Object.fromEntries(Object.entries(properties).map(([key, value]) => [key, fromSchema(value)]));
      return fc.record(model, { requiredKeys: (schema.required ?? []).filter((key) => key in properties) });
    }
    case 'null':
      return fc.constant(null);
    default:
      return hostileJson();
  }
}

type Mutation = (value: unknown) => fc.Arbitrary<unknown>;

const asObject = (value: unknown): Record<string, unknown> | undefined =>
  value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;

/** One change to a valid value, the kind a careless or hostile client makes. */
const MUTATIONS: Mutation[] = [
  // A field set to something hostile (a known field or a new one).
  (value) => {
    const object = asObject(value) ?? {};
    const keys = Object.keys(object);
    const key = keys.length > 0 ? fc.oneof(fc.constantFrom(...keys), fc.string({ maxLength: 10 })) : fc.string({ maxLength: 10 });
    return fc.tuple(key, hostileJson()).map(([k, v]) => ({ ...object, [k]: v }));
  },
  // A field's string made hostile: the type stays right, the content does not.
  (value) => {
    const object = asObject(value);
    const keys = object ? Object.keys(object).filter((k) => typeof object[k] === 'string') : [];
    if (!object || keys.length === 0) return hostileString();
    return fc.tuple(fc.constantFrom(...keys), hostileString()).map(([k, v]) => ({ ...object, [k]: v }));
  },
  // A field dropped.
  (value) => {
    const object = asObject(value);
    const keys = object ? Object.keys(object) : [];
    if (!object || keys.length === 0) return fc.constant({});
    return fc.constantFrom(...keys).map((k) => Object.fromEntries(Object.entries(object).filter(([key]) => key !== k)));
  },
  // The whole body replaced.
  () => hostileJson(),
  // A deep nest, for recursive validators.
  () => fc.integer({ min: 50, max: 2_000 }).map((depth) => JSON.parse('['.repeat(depth) + ']'.repeat(depth)) as unknown),
];

/** A valid value, or one mutation of a valid value. */
export function validOrMutated(valid: fc.Arbitrary<unknown>): fc.Arbitrary<unknown> {
  return fc.oneof(
    { weight: 1, arbitrary: valid },
    { weight: 3, arbitrary: valid.chain((value) => fc.constantFrom(...MUTATIONS).chain((mutate) => mutate(value))) },
  );
}

/** Request body text: JSON of the value, or that JSON cut short, padded or not JSON at all. */
export function bodyText(value: fc.Arbitrary<unknown>): fc.Arbitrary<string> {
  const json = value.map((v) => JSON.stringify(v) ?? 'null');
  return fc.oneof(
    { weight: 6, arbitrary: json },
    { weight: 1, arbitrary: json.chain((text) => fc.nat({ max: Math.max(0, text.length - 1) }).map((cut) => text.slice(0, cut))) },
    { weight: 1, arbitrary: fc.constantFrom('', '{', '{"a":', 'nul', '[1,]', '{"__proto__":{"admin":true}}', '{"a":1,"a":2}', '\ufeff{}', '{}garbage') },
    { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 60 }) },
  );
}

/**
 * `encodeURIComponent` that does not throw on a lone surrogate: it is written as the three bytes
 * UTF-8 would give it (`%ED%A0%80`), which is not valid UTF-8 — one more thing a server must refuse.
 */
export function percentEncode(text: string): string {
  return Array.from(text, (ch) => {
    const unit = ch.charCodeAt(0);
    if (ch.length === 2 || unit < 0xd800 || unit > 0xdfff) return encodeURIComponent(ch);
    return [0xe0 | (unit >> 12), 0x80 | ((unit >> 6) & 0x3f), 0x80 | (unit & 0x3f)].map((b) => `%${b.toString(16).toUpperCase()}`).join('');
  }).join('');
}
