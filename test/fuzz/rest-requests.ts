/**
 * REST requests generated from the server's own OpenAPI document: for each operation, path and
 * query parameters (valid, hostile, or the ids of user A's and user B's things) and JSON bodies
 * valid for the operation's schema or mutated, sent with A's token, A's API key, or bad credentials.
 */
import fc from 'fast-check';
import { bodyText, fromSchema, hostileString, percentEncode, validOrMutated, type JsonSchema } from './arbitraries.js';
import { PLACEHOLDERS } from './target.js';

interface Parameter {
  in: 'path' | 'query' | 'header';
  name: string;
  schema?: JsonSchema;
}
interface Operation {
  parameters?: Parameter[];
  requestBody?: { content?: Record<string, { schema?: JsonSchema }> };
}
export interface OpenApiDocument {
  paths: Record<string, Record<string, Operation>>;
}

/** One request as the fuzzers and the corpus write it; `{A_SESSION}` and the like are filled in when sent. */
export interface RestInput {
  kind: 'rest';
  method: string;
  /** The path and query, as sent (after placeholders are filled). */
  url: string;
  auth: 'access' | 'api_key' | 'none' | 'garbage';
  contentType?: string;
  body?: string;
}

export interface RestOperation {
  /** "POST /api/v1/sessions" */
  route: string;
  input: fc.Arbitrary<RestInput>;
}

const stringify = (value: unknown): string => (typeof value === 'string' ? value : JSON.stringify(value) ?? '');

/** How a parameter value gets into the URL: encoded as a client should, or as it is. */
const encoded = (value: fc.Arbitrary<string>): fc.Arbitrary<string> =>
  fc.oneof({ weight: 4, arbitrary: value.map(percentEncode) }, { weight: 1, arbitrary: value });

function parameterValue(parameter: Parameter): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 3, arbitrary: fromSchema(parameter.schema).map(stringify) },
    { weight: 2, arbitrary: fc.constantFrom(...PLACEHOLDERS) },
    { weight: 2, arbitrary: hostileString() },
    { weight: 1, arbitrary: fc.uuid() },
  );
}

function queryString(parameters: Parameter[]): fc.Arbitrary<string> {
  const pairs = parameters.map((p) => fc.option(encoded(parameterValue(p)).map((v) => `${p.name}=${v}`), { freq: 2 }));
  const extra = fc.option(fc.tuple(encoded(fc.string({ maxLength: 8 })), encoded(hostileString())).map(([k, v]) => `${k}=${v}`), { freq: 4 });
  // A parameter given twice arrives as an array.
  const repeated = parameters.length > 0 ? fc.option(fc.constantFrom(...parameters).map((p) => `${p.name}=1&${p.name}=2`), { freq: 6 }) : fc.constant(null);
  return fc.tuple(fc.tuple(...pairs), extra, repeated).map(([chosen, more, twice]) => {
    const parts = [...chosen, more, twice].filter((p): p is string => p !== null);
    return parts.length > 0 ? `?${parts.join('&')}` : '';
  });
}

const AUTH = fc.constantFrom<RestInput['auth']>('access', 'access', 'access', 'access', 'api_key', 'api_key', 'none', 'garbage');
const JSON_TYPES = fc.constantFrom('application/json', 'application/json', 'application/json', 'application/json; charset=utf-8', 'text/plain', 'application/x-www-form-urlencoded', 'application/json; charset=latin1');

function operationInput(method: string, template: string, operation: Operation): fc.Arbitrary<RestInput> {
  const parameters = operation.parameters ?? [];
  const pathParameters = parameters.filter((p) => p.in === 'path');
  const segments = fc.tuple(...pathParameters.map((p) => encoded(parameterValue(p)).map((v) => [p.name, v] as const)));
  const url = fc.tuple(segments, queryString(parameters.filter((p) => p.in === 'query'))).map(([values, query]) => {
    let path = template;
    for (const [name, value] of values) path = path.replace(`{${name}}`, value);
    return path + query;
  });
  const schema = operation.requestBody?.content?.['application/json']?.schema;
  const body = schema
    ? fc.record({ contentType: JSON_TYPES, body: bodyText(validOrMutated(fromSchema(schema))) })
    : fc.option(fc.record({ contentType: JSON_TYPES, body: bodyText(validOrMutated(fc.constant({}))) }), { freq: 5, nil: undefined });
  return fc.tuple(url, AUTH, body).map(([u, auth, b]) => ({ kind: 'rest' as const, method: method.toUpperCase(), url: u, auth, ...b }));
}

/** Every operation of the document (multipart uploads have a fuzzer of their own). */
export function restOperations(document: OpenApiDocument): RestOperation[] {
  return Object.entries(document.paths).flatMap(([template, methods]) =>
    Object.entries(methods).map(([method, operation]) => ({
      route: `${method.toUpperCase()} ${template}`,
      input: operationInput(method, template, operation),
    })),
  );
}
