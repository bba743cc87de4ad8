import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createDatabase, DatabaseUnreachableError, waitForDatabase } from '../../src/db/create-database.js';
import type { Database } from '../../src/db/database.js';
import { createLogger } from '../../src/observability/logger.js';
import { silentLogger } from '../support/server.js';

describe('choosing and waiting for the database', () => {
  it('uses embedded PGlite under DATA_DIR/db when no DATABASE_URL is set, and PostgreSQL when it is', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'pulp-db-'));
    try {
      const embedded = await createDatabase({ databaseUrl: undefined, dataDir, dbPoolMax: 2, dbStatementTimeoutMs: 1000 }, silentLogger());
      expect(embedded.driver).toBe('pglite');
      await embedded.close();
      const remote = await createDatabase({ databaseUrl: 'postgres://nobody@127.0.0.1:1/none', dataDir, dbPoolMax: 2, dbStatementTimeoutMs: 1000 }, silentLogger());
      expect(remote.driver).toBe('postgres');
      await remote.close();
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('retries with growing waits and then gives up with a clear error', async () => {
    let pings = 0;
    const down = { ping: () => { pings++; return Promise.reject(new Error('connect ECONNREFUSED')); } } as unknown as Database;
    const waits: number[] = [];
    const err = await waitForDatabase(down, silentLogger(), { attempts: 3, baseDelayMs: 100, maxDelayMs: 1000 }, (ms) => { waits.push(ms); return Promise.resolve(); }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DatabaseUnreachableError);
    expect((err as Error).message).toBe('database unreachable after 3 attempts: connect ECONNREFUSED');
    expect(pings).toBe(3);
    expect(waits).toHaveLength(2);
    expect(waits[1]!).toBeGreaterThanOrEqual(waits[0]! / 2);
  });

  it('returns as soon as the database answers', async () => {
    let pings = 0;
    const flaky = { ping: () => (++pings < 2 ? Promise.reject(new Error('starting up')) : Promise.resolve()) } as unknown as Database;
    await waitForDatabase(flaky, silentLogger(), { attempts: 5, baseDelayMs: 1, maxDelayMs: 1 }, () => Promise.resolve());
    expect(pings).toBe(2);
  });
});

describe('the logger', () => {
  it('writes JSON lines with the service name and redacts secrets and auth headers', () => {
    const lines: string[] = [];
    const logger = createLogger({ level: 'info', format: 'json' }, { write: (s: string) => lines.push(s) });
    logger.info({ password: 'hunter2', req: { headers: { authorization: 'Bearer abc' } }, user: { apiKey: 'sk-1' } }, 'hello');
    logger.debug('not at info');
    expect(lines).toHaveLength(1);
    const line = JSON.parse(lines[0]!);
    expect(line).toMatchObject({ msg: 'hello', service: 'pulp', password: '[redacted]', user: { apiKey: '[redacted]' } });
    expect(line.req.headers.authorization).toBe('[redacted]');
    expect(lines[0]).not.toMatch(/hunter2|sk-1|Bearer abc/);
  });
});
