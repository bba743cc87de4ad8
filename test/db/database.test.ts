import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/database.js';
import { migrate, readMigrations } from '../../src/db/migrate.js';
import { backoffDelay, DB_RETRY, withRetry } from '../../src/db/retry.js';
import { isTransientError, toDatabaseAppError } from '../../src/db/errors.js';
import { createTestDatabase, TEST_DATABASE_URL, type TestDatabase } from '../support/database.js';

const drivers: Array<'pglite' | 'auto'> = TEST_DATABASE_URL ? ['pglite', 'auto'] : ['pglite'];

describe.each(drivers)('the database layer (%s)', (driver) => {
  let t: TestDatabase;
  let db: Database;
  let applied: string[];
  beforeAll(async () => {
    // An empty database: these tests are the migrations' own (the other files get a migrated copy).
    t = await createTestDatabase(driver, { migrated: false });
    db = t.db;
    applied = await migrate(db);
  });
  afterAll(() => t.drop());

  it('returns int8 as a number, jsonb as JSON and timestamptz as a Date on every driver', async () => {
    const { rows } = await db.query<{ n: number; j: unknown; t: Date; a: unknown }>(
      "SELECT 9007199254740::bigint AS n, $1::jsonb AS j, now() AS t, $2::jsonb AS a",
      [{ k: [1, 'two', null] }, JSON.stringify([1, 2])],
    );
    expect(rows[0]).toMatchObject({ n: 9007199254740, j: { k: [1, 'two', null] }, a: [1, 2] });
    expect(rows[0]?.t).toBeInstanceOf(Date);
  });

  it.runIf(driver === 'pglite')('keeps the full-text pending lists small on PGlite, which has no autovacuum to merge them', async () => {
    // The statement that outgrows the list merges it on the event loop: 4 MB held every stream
    // for about 350 ms (src/db/pglite-driver.ts).
    const { rows } = await db.query<{ gin_pending_list_limit: string }>('SHOW gin_pending_list_limit');
    expect(rows[0]?.gin_pending_list_limit).toBe('64kB');
  });

  it.runIf(driver === 'pglite')('creates new WAL segments on PGlite without writing 16 MB of zeros on the event loop', async () => {
    // Each 16 MB of WAL starts a segment; filling it with zeros first held every stream for about
    // 300 ms (src/db/pglite-driver.ts).
    const { rows } = await db.query<{ wal_init_zero: string }>('SHOW wal_init_zero');
    expect(rows[0]?.wal_init_zero).toBe('off');
  });

  it.runIf(driver === 'pglite')('keeps the event loop turning while a statement runs on PGlite', async () => {
    // PGlite runs a statement synchronously; on the server's own thread a long one held every
    // socket and timer still until it ended (src/db/pglite-thread.ts runs them on another thread).
    let finished = false;
    const statement = db.query('SELECT count(*) FROM generate_series(1, 500000)').then(() => (finished = true));
    let turns = 0;
    while (!finished && turns < 50) {
      await new Promise((resolve) => setImmediate(resolve));
      turns += 1;
    }
    expect(turns).toBe(50);
    await statement;
  });

  it.runIf(driver === 'pglite')('refuses a statement after PGlite closed as unavailable, at once, instead of waiting for its thread', async () => {
    const other = await createTestDatabase(driver);
    await other.db.query('SELECT 1');
    await other.drop();
    const err = await other.db.query('SELECT 1').catch((e: unknown) => e);
    expect(toDatabaseAppError(err).code).toBe('DB_8002');
  });

  it.runIf(driver === 'pglite')('refuses a parameter PGlite\'s thread cannot be sent, and answers the next statement', async () => {
    const err = await db.query('SELECT $1::text[] AS a', [[() => 'code']]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expect((await db.query<{ n: number }>('SELECT 1 AS n')).rows).toEqual([{ n: 1 }]);
  });

  it('sends bytes, dates and arrays to the database and reads them back unchanged', async () => {
    const bytes = Buffer.from([0, 1, 2, 250, 255]);
    const at = new Date('2026-01-02T03:04:05.678Z');
    const { rows } = await db.query<{ b: Uint8Array; t: Date; a: string[] }>('SELECT $1::bytea AS b, $2::timestamptz AS t, $3::text[] AS a', [bytes, at, ['x', 'y z']]);
    expect(Buffer.from(rows[0]!.b).equals(bytes)).toBe(true);
    expect(rows[0]!.t.toISOString()).toBe(at.toISOString());
    expect(rows[0]!.a).toEqual(['x', 'y z']);
  });

  it('rolls a failed transaction back and commits a good one', async () => {
    await db.query("INSERT INTO users (email) VALUES ('keep@example.com')");
    await expect(
      db.transaction(async (tx) => {
        await tx.query("INSERT INTO users (email) VALUES ('gone@example.com')");
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    const value = await db.transaction(async (tx) => {
      await tx.query("INSERT INTO users (email) VALUES ('tx@example.com')");
      return 42;
    });
    expect(value).toBe(42);
    const { rows } = await db.query<{ email: string }>('SELECT email FROM users ORDER BY email');
    expect(rows.map((r) => r.email)).toEqual(['keep@example.com', 'tx@example.com']);
  });

  it('answers a prepared statement again after its table changed under it, alone or in a transaction', async () => {
    // What a migration does to a server that prepared `SELECT *` before it.
    await db.query('CREATE TABLE shape (id int)');
    await db.query('INSERT INTO shape VALUES (1)');
    const sql = 'SELECT * FROM shape WHERE id = $1';
    expect((await db.query(sql, [1])).rows).toEqual([{ id: 1 }]);
    await db.query("ALTER TABLE shape ADD COLUMN note text DEFAULT 'added'");
    expect((await db.query(sql, [1])).rows).toEqual([{ id: 1, note: 'added' }]);
    await db.query('ALTER TABLE shape ADD COLUMN size int DEFAULT 2');
    const { rows } = await db.transaction((tx) => tx.query(sql, [1]));
    expect(rows).toEqual([{ id: 1, note: 'added', size: 2 }]);
  });

  it('applies each migration once, even when two servers migrate at the same moment', async () => {
    expect(applied).toEqual(readMigrations().map((m) => m.name));
    const again = await Promise.all([migrate(db), migrate(db)]);
    expect(again).toEqual([[], []]);
    const { rows } = await db.query<{ name: string }>('SELECT name FROM schema_migrations');
    expect(rows.map((r) => r.name)).toEqual(readMigrations().map((m) => m.name));
  });

  it('keeps transactions apart from concurrent statements', async () => {
    await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        db.transaction(async (tx) => {
          await tx.query('INSERT INTO users (email) VALUES ($1)', [`c${i}@example.com`]);
          await tx.query('SELECT 1');
        }),
      ),
    );
    const { rows } = await db.query<{ n: number }>("SELECT count(*)::int AS n FROM users WHERE email LIKE 'c%'");
    expect(rows[0]?.n).toBe(10);
    expect(db.poolStats().total).toBeGreaterThanOrEqual(1);
  });

  it('reports a NUL character in text or jsonb as the input\'s fault (VAL_2001), not a database error', async () => {
    const inText = await db.query('INSERT INTO users (email) VALUES ($1)', ['nul\u0000@example.com']).catch((e: unknown) => e);
    expect(toDatabaseAppError(inText)).toMatchObject({ code: 'VAL_2001', status: 422, message: expect.stringContaining('NUL character') });
    const inJson = await db.query('SELECT $1::jsonb AS j', [JSON.stringify({ path: 'a\u0000b' })]).catch((e: unknown) => e);
    expect(toDatabaseAppError(inJson)).toMatchObject({ code: 'VAL_2001' });
  });

  it('reports an unpaired surrogate in jsonb as the input\'s fault (VAL_2001), not a database error', async () => {
    const lone = await db.query('SELECT $1::jsonb AS j', [JSON.stringify([{ content: 'a\ud800' }])]).catch((e: unknown) => e);
    expect(toDatabaseAppError(lone)).toMatchObject({ code: 'VAL_2001', status: 422, message: expect.stringContaining('unpaired UTF-16 surrogate') });
  });

  it('reports a constraint violation as a database error, not as unavailable', async () => {
    const err = await db.query("INSERT INTO users (email) VALUES ('keep@example.com')").catch((e: unknown) => e);
    expect(isTransientError(err)).toBe(false);
    expect(toDatabaseAppError(err).code).toBe('DB_8001');
  });
});

describe('retrying transient errors', () => {
  const transient = Object.assign(new Error('Connection terminated unexpectedly'), {});
  it('retries up to three attempts with growing, capped, jittered delays', async () => {
    const waits: number[] = [];
    let calls = 0;
    await expect(
      withRetry(
        () => {
          calls++;
          return Promise.reject(transient);
        },
        DB_RETRY,
        (ms) => {
          waits.push(ms);
          return Promise.resolve();
        },
      ),
    ).rejects.toBe(transient);
    expect(calls).toBe(3);
    expect(waits).toHaveLength(2);
    expect(waits[0]).toBeGreaterThanOrEqual(50);
    expect(waits[0]).toBeLessThanOrEqual(100);
    expect(waits[1]).toBeGreaterThanOrEqual(100);
    expect(waits[1]).toBeLessThanOrEqual(200);
    expect(backoffDelay(DB_RETRY, 10, () => 1)).toBe(2000);
    expect(backoffDelay(DB_RETRY, 1, () => 0)).toBe(50);
  });

  it('does not retry an error that is not transient, and succeeds after a passing fault', async () => {
    let calls = 0;
    const syntax = Object.assign(new Error('syntax error'), { code: '42601' });
    await expect(withRetry(() => { calls++; return Promise.reject(syntax); }, DB_RETRY, () => Promise.resolve())).rejects.toBe(syntax);
    expect(calls).toBe(1);
    let n = 0;
    const deadlock = Object.assign(new Error('deadlock'), { code: '40P01' });
    expect(await withRetry(() => (n++ === 0 ? Promise.reject(deadlock) : Promise.resolve('ok')), DB_RETRY, () => Promise.resolve())).toBe('ok');
  });

  it('classifies connection loss, admin shutdown and serialization failures as transient', () => {
    for (const code of ['ECONNREFUSED', 'ECONNRESET', '08006', '57P01', '40001', '40P01']) {
      expect(isTransientError({ code })).toBe(true);
    }
    expect(isTransientError({ code: '23505' })).toBe(false);
    expect(toDatabaseAppError({ code: 'ECONNREFUSED' }).code).toBe('DB_8002');
  });
});
