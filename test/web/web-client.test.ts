/** registerWebClient on a bare HTTP server: what `/` serves, its headers, and that it never shadows other routes. */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createHttpServer, type PulpFastify } from '../../src/http/server.js';
import { createMetrics } from '../../src/observability/metrics.js';
import { CONTENT_SECURITY_POLICY, registerWebClient } from '../../src/web/web-client.js';
import { silentLogger } from '../support/server.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

let distDir = '';

async function serverWith(dist: Record<string, string> | null): Promise<PulpFastify> {
  const dir = mkdtempSync(path.join(tmpdir(), 'pulp-web-'));
  distDir = dir;
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  for (const [name, content] of Object.entries(dist ?? {})) {
    mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    writeFileSync(path.join(dir, name), content);
  }
  const app = await createHttpServer({ logger: silentLogger(), metrics: createMetrics(), debug: false, version: 'test' });
  cleanups.push(() => app.close());
  app.get('/api/v1/ping', async () => ({ pong: true }));
  await registerWebClient(app, { distDir: dir });
  await app.ready();
  return app;
}

describe('serving the web client', () => {
  it('answers / with index.html, a strict content security policy and revalidation', async () => {
    const app = await serverWith({ 'index.html': '<!doctype html><title>Pulp</title>', 'main.js': 'console.log(1)' });
    const page = await app.inject({ method: 'GET', url: '/' });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(page.body).toContain('<title>Pulp</title>');
    expect(page.headers['content-security-policy']).toBe(CONTENT_SECURITY_POLICY);
    expect(page.headers['cache-control']).toBe('no-cache');

    const script = await app.inject({ method: 'GET', url: '/main.js' });
    expect(script.statusCode).toBe(200);
    expect(script.headers['content-type']).toMatch(/javascript/);
  });

  it('never shadows the API: API routes still answer, unknown paths get the JSON error envelope', async () => {
    const app = await serverWith({ 'index.html': '<!doctype html>' });
    expect((await app.inject({ method: 'GET', url: '/api/v1/ping' })).json()).toEqual({ pong: true });
    for (const url of ['/api/v1/nothing-here', '/ws/chat/x', '/metrics', '/missing.js', '/../package.json']) {
      const res = await app.inject({ method: 'GET', url });
      expect(res.statusCode, url).toBe(404);
      expect(res.json().error.code, url).toBe('RES_3001');
    }
  });

  it('serves lazily loaded chunks that a rebuild adds while the server runs, cached for good', async () => {
    const app = await serverWith({ 'index.html': '<!doctype html>', 'main.js': 'import("./chunks/a-1.js")', 'chunks/a-1.js': 'export {}' });
    writeFileSync(path.join(distDir, 'chunks/a-2.js'), 'export const rebuilt = true');
    const added = await app.inject({ method: 'GET', url: '/chunks/a-2.js' });
    expect(added.statusCode).toBe(200);
    expect(added.body).toBe('export const rebuilt = true');
    expect(added.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(added.headers['content-security-policy']).toBe(CONTENT_SECURITY_POLICY);
    const missing = await app.inject({ method: 'GET', url: '/chunks/missing.js' });
    expect(missing.statusCode).toBe(404);
  });

  it('says how to build the client when it has not been built, instead of a bare 404', async () => {
    const app = await serverWith(null);
    const res = await app.inject({ method: 'GET', url: '/' });
    expect(res.statusCode).toBe(503);
    expect(res.body).toContain('npm run build:web');
  });
});
