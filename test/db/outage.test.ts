/**
 * A database outage made real: PostgreSQL behind a TCP proxy that the test cuts. Needs a real
 * PostgreSQL server (TEST_DATABASE_URL, set in CI); PGlite is in-process and cannot go away.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPostgresDatabase } from '../../src/db/postgres-driver.js';
import { counted, createEmptyPostgresDatabase, TEST_DATABASE_URL } from '../support/database.js';
import { silentLogger, startTestServer, type TestServer } from '../support/server.js';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy.js';

if (!TEST_DATABASE_URL) console.warn('outage.test.ts skipped: set TEST_DATABASE_URL to run it against real PostgreSQL');

describe.skipIf(!TEST_DATABASE_URL)('a database outage at run time', () => {
  let proxy: TcpProxy;
  let server: TestServer;
  let dropDatabase: () => Promise<void>;

  beforeAll(async () => {
    const empty = await createEmptyPostgresDatabase();
    dropDatabase = empty.drop;
    const target = new URL(empty.url);
    proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 5432) });
    const viaProxy = new URL(empty.url);
    viaProxy.port = String(proxy.port);
    viaProxy.hostname = '127.0.0.1';
    const db = createPostgresDatabase({ url: viaProxy.toString(), poolMax: 4, statementTimeoutMs: 5_000, logger: silentLogger() });
    server = await startTestServer({}, { database: { ...counted(db), url: viaProxy.toString(), drop: async () => {} } });
  });
  afterAll(async () => {
    await server?.close();
    await proxy?.close();
    await dropDatabase?.();
  });

  const get = (path: string) => fetch(`${server.baseUrl}/api/v1${path}`);

  it('turns ready 503 within 3 s, answers 503 DB_8002 instead of hanging, and recovers without a restart', async () => {
    expect((await get('/health/ready')).status).toBe(200);

    proxy.cut();
    const started = performance.now();
    const ready = await get('/health/ready');
    expect(ready.status).toBe(503);
    expect(await ready.json()).toMatchObject({ ready: false });
    expect(performance.now() - started).toBeLessThan(3_000);

    const health = await get('/health');
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ status: 'unhealthy', database: { healthy: false, driver: 'postgres' } });

    const needsDb = await get('/sessions');
    expect(needsDb.status).toBe(503);
    const body = (await needsDb.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('DB_8002');
    expect(body.error.message).not.toMatch(/ECONN|127\.0\.0\.1|at /);
    expect((await get('/health/live')).status).toBe(200);

    proxy.restore();
    expect((await get('/health/ready')).status).toBe(200);
    expect((await get('/health')).status).toBe(200);
    expect((await get('/sessions')).status).toBe(200);
  });
});
