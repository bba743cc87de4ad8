import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiClient } from '../support/api.js';
import { startTestServer, type TestServer } from '../support/server.js';

describe('health and metrics', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(() => server.close());

  it('reports liveness, readiness and a health summary without secrets or hosts', async () => {
    const api = apiClient(server.baseUrl);
    expect((await api('GET', '/health/live')).body).toEqual({ alive: true });
    expect((await api('GET', '/health/ready')).body).toEqual({ ready: true });
    const health = await api('GET', '/health');
    expect(health.body).toMatchObject({
      status: 'healthy',
      version: expect.any(String),
      uptime_s: expect.any(Number),
      database: { healthy: true, driver: server.database.url ? 'postgres' : 'pglite', pool: { total: expect.any(Number), idle: expect.any(Number), waiting: expect.any(Number) } },
      websocket: { connections: 0, sessions: 0 },
      mcp: { servers: expect.any(Object) },
      llm: { provider: 'offline' },
      code_interpreter: { available: expect.any(Boolean) },
      cluster: { enabled: false },
    });
    expect(JSON.stringify(health.body)).not.toMatch(/127\.0\.0\.1|postgres:\/\/|password/);
  });

  it('answers ready 503 once the database is gone', async () => {
    const other = await startTestServer();
    await other.pulp.db.close();
    const ready = await apiClient(other.baseUrl)('GET', '/health/ready');
    expect(ready.status).toBe(503);
    expect(ready.body).toEqual({ ready: false, checks: { database: false } });
    await other.close();
  });

  it('exposes Prometheus metrics counting requests by route and status', async () => {
    await apiClient(server.baseUrl)('GET', '/health/live');
    const res = await fetch(`${server.baseUrl}/metrics`);
    expect(res.headers.get('content-type')).toContain('text/plain');
    const text = await res.text();
    expect(text).toMatch(/pulp_http_requests_total\{method="GET",route="\/api\/v1\/health\/live",status="200"\} \d+/);
    expect(text).toContain('pulp_db_pool_connections');
    expect(text).toContain('pulp_turns_total');
  });

  it('needs METRICS_TOKEN as a bearer token when it is set', async () => {
    const token = 'metrics-token-of-the-operator';
    const guarded = await startTestServer({ METRICS_TOKEN: token });
    try {
      const metrics = (authorization?: string) => fetch(`${guarded.baseUrl}/metrics`, authorization ? { headers: { authorization } } : {});
      const none = await metrics();
      expect(none.status).toBe(401);
      expect(none.headers.get('www-authenticate')).toMatch(/^Bearer/);
      expect(((await none.json()) as { error: { code: string } }).error.code).toBe('AUTH_1001');
      for (const wrong of [`Bearer ${token}x`, `Bearer ${token.slice(0, -1)}`, 'Bearer x', `Basic ${token}`]) {
        expect((await metrics(wrong)).status).toBe(401);
      }
      const ok = await metrics(`Bearer ${token}`);
      expect(ok.status).toBe(200);
      expect(await ok.text()).toContain('pulp_http_requests_total');
      // The health routes stay open for probes.
      expect((await apiClient(guarded.baseUrl)('GET', '/health/live')).status).toBe(200);
    } finally {
      await guarded.close();
    }
  });
});
