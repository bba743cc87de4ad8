import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { AppError } from '../../src/errors/app-error.js';
import { createHttpServer, type PulpFastify } from '../../src/http/server.js';
import { requestIdFrom } from '../../src/http/request-id.js';
import { createMetrics } from '../../src/observability/metrics.js';
import { silentLogger } from '../support/server.js';

async function build(debug = false): Promise<PulpFastify> {
  const app = await createHttpServer({ logger: silentLogger(), metrics: createMetrics(), debug, version: 'test' });
  app.post('/api/v1/echo', { schema: { body: z.object({ name: z.string().min(1).max(5), n: z.number().int().optional() }) } }, async (req) => req.body);
  app.get('/api/v1/crash', async () => {
    throw new Error('secret internals at /srv/db password=hunter2');
  });
  app.get('/api/v1/gone', async () => {
    throw new AppError('SES_4001');
  });
  await app.ready();
  return app;
}

function expectEnvelope(body: unknown, code: string, path: string) {
  const b = body as { error: Record<string, unknown> };
  expect(b.error).toMatchObject({ code, path });
  expect(typeof b.error.message).toBe('string');
  expect(typeof b.error.request_id).toBe('string');
  expect(Number.isNaN(Date.parse(String(b.error.timestamp)))).toBe(false);
}

describe('error answers', () => {
  let app: PulpFastify;
  beforeAll(async () => {
    app = await build();
  });
  afterAll(() => app.close());

  it('answers malformed JSON with 400 VAL_2002', async () => {
    const res = await app.inject({ method: 'POST', url: '/api/v1/echo', headers: { 'content-type': 'application/json' }, payload: '{"name": ' });
    expect(res.statusCode).toBe(400);
    expectEnvelope(res.json(), 'VAL_2002', '/api/v1/echo');
  });

  it('answers a 2 MiB body with 413 VAL_2003', async () => {
    const big = JSON.stringify({ name: 'x'.repeat(2 * 1024 * 1024) });
    const res = await app.inject({ method: 'POST', url: '/api/v1/echo', headers: { 'content-type': 'application/json' }, payload: big });
    expect(res.statusCode).toBe(413);
    expectEnvelope(res.json(), 'VAL_2003', '/api/v1/echo');
  });

  it('answers a wrong content type with 415 VAL_2004', async () => {
    for (const type of ['text/plain', 'application/xml']) {
      const res = await app.inject({ method: 'POST', url: '/api/v1/echo', headers: { 'content-type': type }, payload: 'name=x' });
      expect(res.statusCode).toBe(415);
      expectEnvelope(res.json(), 'VAL_2004', '/api/v1/echo');
    }
  });

  it('answers a validation failure with 422 VAL_2001 naming each field', async () => {
    const res = await app.inject({ method: 'POST', url: '/api/v1/echo', payload: { name: 'toolongname', n: 1.5 } });
    expect(res.statusCode).toBe(422);
    const body = res.json<{ error: { details: Array<{ field: string }> } }>();
    expectEnvelope(body, 'VAL_2001', '/api/v1/echo');
    expect(body.error.details.map((d) => d.field).sort()).toEqual(['n', 'name']);
  });

  it('answers an unknown route with 404 RES_3001 and a wrong method with 405 RES_3005', async () => {
    const missing = await app.inject({ method: 'GET', url: '/api/v1/nothing-here?x=1' });
    expect(missing.statusCode).toBe(404);
    expectEnvelope(missing.json(), 'RES_3001', '/api/v1/nothing-here');
    const wrong = await app.inject({ method: 'DELETE', url: '/api/v1/echo' });
    expect(wrong.statusCode).toBe(405);
    expect(wrong.headers.allow).toBe('POST');
    expectEnvelope(wrong.json(), 'RES_3005', '/api/v1/echo');
  });

  it('answers a crash with a generic 500 INT_9001 that leaks nothing, and keeps serving', async () => {
    const res = await app.inject({ method: 'GET', url: '/api/v1/crash' });
    expect(res.statusCode).toBe(500);
    expectEnvelope(res.json(), 'INT_9001', '/api/v1/crash');
    expect(res.body).not.toMatch(/hunter2|secret|stack|\/srv/);
    expect((await app.inject({ method: 'GET', url: '/api/v1/gone' })).statusCode).toBe(404);
    const ok = await app.inject({ method: 'POST', url: '/api/v1/echo', payload: { name: 'ok' } });
    expect(ok.json()).toEqual({ name: 'ok' });
  });

  it('adds the cause in a debug block only when DEBUG is on', async () => {
    const debugApp = await build(true);
    const res = await debugApp.inject({ method: 'GET', url: '/api/v1/crash' });
    expect(res.json<{ error: { debug: { message: string } } }>().error.debug.message).toContain('secret internals');
    await debugApp.close();
  });

  it('keeps a safe X-Request-ID and replaces an unsafe one', async () => {
    const kept = await app.inject({ method: 'GET', url: '/api/v1/nothing', headers: { 'x-request-id': 'abc.DEF-1_2' } });
    expect(kept.headers['x-request-id']).toBe('abc.DEF-1_2');
    expect(kept.json<{ error: { request_id: string } }>().error.request_id).toBe('abc.DEF-1_2');
    const replaced = await app.inject({ method: 'GET', url: '/api/v1/nothing', headers: { 'x-request-id': 'bad id<script>' } });
    expect(replaced.headers['x-request-id']).not.toBe('bad id<script>');
    expect(replaced.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(requestIdFrom('x'.repeat(65))).not.toBe('x'.repeat(65));
    expect(requestIdFrom(['a1', 'b2'])).toBe('a1');
  });

  it('serves the OpenAPI document and the docs page', async () => {
    const spec = await app.inject({ method: 'GET', url: '/api/v1/openapi.json' });
    expect(spec.statusCode).toBe(200);
    expect(spec.json<{ openapi: string; paths: Record<string, unknown> }>().paths).toHaveProperty('/api/v1/echo');
    const docs = await app.inject({ method: 'GET', url: '/api/v1/docs/' });
    expect(docs.statusCode).toBe(200);
    expect(docs.body).toContain('swagger');
  });
});
