/**
 * More callers than the PostgreSQL pool has connections: they wait their turn, however long the
 * burst, and a wait past the statement timeout says the database is busy. Needs a real PostgreSQL
 * server (TEST_DATABASE_URL, set in CI).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { createPostgresDatabase } from '../../src/db/postgres-driver.js';
import { AppError } from '../../src/errors/app-error.js';
import { TEST_DATABASE_URL } from '../support/database.js';
import { silentLogger } from '../support/server.js';

if (!TEST_DATABASE_URL) console.warn('pool-queue.test.ts skipped: set TEST_DATABASE_URL to run it against real PostgreSQL');

describe.skipIf(!TEST_DATABASE_URL)('callers beyond the pool', () => {
  const opened: Array<{ close(): Promise<void> }> = [];
  const open = (poolMax: number, statementTimeoutMs: number) => {
    const db = createPostgresDatabase({ url: TEST_DATABASE_URL ?? '', poolMax, statementTimeoutMs, logger: silentLogger() });
    opened.push(db);
    return db;
  };
  afterAll(async () => {
    await Promise.all(opened.map((db) => db.close()));
  });

  it('queue in the order they came for as long as it takes, past the 2 s connect timeout, and every one completes', async () => {
    const db = open(1, 30_000);
    // 60 transactions of 0.08 s of database work on one connection: the last one waits nearly 5 s.
    const started = performance.now();
    const order: number[] = [];
    const done = await Promise.all(
      Array.from({ length: 60 }, (_, i) =>
        db.transaction(async (tx) => {
          order.push(i);
          await tx.query('SELECT pg_sleep(0.08)');
          return (await tx.query<{ n: number }>('SELECT $1::int AS n', [i])).rows[0]?.n;
        }),
      ),
    );
    const inOrder = Array.from({ length: 60 }, (_, i) => i);
    expect(done).toEqual(inOrder);
    expect(order).toEqual(inOrder);
    expect(performance.now() - started).toBeGreaterThan(4_000);
    expect(db.poolStats()).toMatchObject({ total: 1, waiting: 0 });
  });

  it('refuse a wait past the statement timeout with DB_8002, and serve the next caller once a connection is free', async () => {
    const db = open(1, 300);
    let finish = () => undefined as void;
    const holding = db.transaction(async (tx) => {
      await tx.query('SELECT 1');
      await new Promise<void>((resolve) => (finish = resolve));
    });
    const refused = await db.query('SELECT 1').then(
      () => null,
      (err: unknown) => err,
    );
    expect(refused).toBeInstanceOf(AppError);
    expect(refused).toMatchObject({ code: 'DB_8002', message: expect.stringMatching(/database is busy/) as unknown });
    finish();
    await holding;
    expect((await db.query<{ ok: number }>('SELECT 1 AS ok')).rows).toEqual([{ ok: 1 }]);
  });
});
