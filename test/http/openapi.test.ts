/**
 * The OpenAPI document is the REST contract clients are generated from: every route's
 * tag, parameters, bodies and answers. It is compared with the reviewed
 * copy in `openapi.snapshot.json`, so any change to the public API shows up in review — update
 * it with `npx vitest run test/http/openapi.test.ts -u` when the change is meant.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/server.js';

interface Operation {
  tags?: string[];
  responses?: Record<string, unknown>;
  security?: unknown[];
}
type Document = { openapi: string; paths: Record<string, Record<string, Operation>> };

let server: TestServer;
let doc: Document;

beforeAll(async () => {
  server = await startTestServer({ AUTH_MODE: 'jwt', JWT_SECRET: 'openapi-contract-secret-of-32-chars!!' });
  const res = await fetch(`${server.baseUrl}/api/v1/openapi.json`);
  expect(res.status).toBe(200);
  doc = (await res.json()) as Document;
});
afterAll(() => server?.close());

const operations = () =>
  Object.entries(doc.paths).flatMap(([path, methods]) => Object.entries(methods).map(([method, op]) => ({ route: `${method.toUpperCase()} ${path}`, op })));

describe('the OpenAPI document', () => {
  it('gives every operation of every capability a tag and a documented success answer', () => {
    expect(doc.openapi).toMatch(/^3\./);
    const ops = operations();
    expect(new Set(ops.flatMap(({ op }) => op.tags ?? []))).toEqual(new Set(['health', 'config', 'auth', 'admin', 'sessions', 'files', 'usage', 'presets', 'search', 'documents', 'libraries']));
    for (const { route, op } of ops) {
      expect(op.tags?.length, route).toBeGreaterThan(0);
      expect(Object.keys(op.responses ?? {}).some((status) => status.startsWith('2')), route).toBe(true);
    }
  });

  it('is the reviewed contract', async () => {
    await expect(`${JSON.stringify(doc, null, 2)}\n`).toMatchFileSnapshot('./openapi.snapshot.json');
  });
});
