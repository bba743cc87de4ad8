/**
 * A fresh database per test file: a new database on the real PostgreSQL server named by
 * `TEST_DATABASE_URL` (so files run in parallel without seeing each other), or in-memory PGlite.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import pino from 'pino';
import type { Database, Queryable } from '../../src/db/database.js';
import { createPgliteDatabase } from '../../src/db/pglite-driver.js';
import { createPostgresDatabase } from '../../src/db/postgres-driver.js';

export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL;

export interface TestDatabase {
  db: Database;
  /** Statements sent through `db` so far (to show what a turn costs). */
  statements(): number;
  /** The URL of the fresh database, when on real PostgreSQL. */
  url: string | undefined;
  drop(): Promise<void>;
}

async function admin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** Creates an empty PostgreSQL database and returns its URL (real PostgreSQL only). */
export async function createEmptyPostgresDatabase(): Promise<{ url: string; drop: () => Promise<void> }> {
  if (!TEST_DATABASE_URL) throw new Error('TEST_DATABASE_URL is not set');
  const name = `pulp_test_${randomBytes(6).toString('hex')}`;
  await admin((c) => c.query(`CREATE DATABASE ${name}`));
  const url = new URL(TEST_DATABASE_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: () => admin((c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).then(() => undefined),
  };
}

/** `db` with every statement counted, inside transactions too. */
export function counted(db: Database): { db: Database; statements: () => number } {
  let n = 0;
  const count = (q: Queryable): Queryable => ({
    query: (sql, params) => {
      n += 1;
      return q.query(sql, params);
    },
  });
  const direct = count(db);
  const wrapped: Database = {
    driver: db.driver,
    query: (sql, params) => direct.query(sql, params),
    transaction: (fn) => db.transaction((tx) => fn(count(tx))),
    ping: (ms) => db.ping(ms),
    poolStats: () => db.poolStats(),
    close: () => db.close(),
  };
  return { db: wrapped, statements: () => n };
}

export async function createTestDatabase(driver: 'auto' | 'pglite' = 'auto'): Promise<TestDatabase> {
  if (driver === 'pglite' || !TEST_DATABASE_URL) {
    const { db, statements } = counted(await createPgliteDatabase(undefined));
    return { db, statements, url: undefined, drop: () => db.close() };
  }
  const empty = await createEmptyPostgresDatabase();
  const { db, statements } = counted(createPostgresDatabase({ url: empty.url, poolMax: 10, statementTimeoutMs: 30_000, logger: pino({ level: 'silent' }) }));
  return {
    db,
    statements,
    url: empty.url,
    drop: async () => {
      await db.close().catch(() => undefined);
      await empty.drop();
    },
  };
}
