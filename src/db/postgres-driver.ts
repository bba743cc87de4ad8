/** The node-postgres driver: a bounded pool, a per-statement timeout and transient retries. */
import pg from 'pg';
import type { Logger } from 'pino';
import { AppError } from '../errors/app-error.js';
import { Semaphore } from '../util/semaphore.js';
import { normalizeParams, type Database, type Queryable, type QueryResult, type SqlParam } from './database.js';
import { withRetry } from './retry.js';

const INT8_OID = 20;
const CONNECT_TIMEOUT_MS = 2_000;

const types = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === INT8_OID) return (value: string) => Number(value);
    return pg.types.getTypeParser(oid, format) as (value: string) => unknown;
  },
};

export interface PostgresOptions {
  url: string;
  poolMax: number;
  statementTimeoutMs: number;
  logger: Logger;
}

export function createPostgresDatabase(options: PostgresOptions): Database {
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.poolMax,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    idleTimeoutMillis: 30_000,
    statement_timeout: options.statementTimeoutMs,
    // A guard against a silently dead socket, a little past the server-side timeout.
    query_timeout: options.statementTimeoutMs + 5_000,
    keepAlive: true,
    types,
  });
  // An idle client whose connection drops emits here; without a listener it would crash the process.
  pool.on('error', (err) => options.logger.warn({ err: { message: err.message } }, 'idle database connection lost'));
  let closing: Promise<void> | undefined;
  // Callers wait here, in order, for one of the pool's connections. pg-pool's own queue would do
  // the same, but it applies the 2 s connect timeout to the wait as well: a burst of turns longer
  // than the pool (a thousand chats starting at once) then failed instead of queueing. A wait is
  // bounded by the statement timeout; past it the database is busy, not unreachable.
  const slots = new Semaphore(options.poolMax);
  const busyFor = options.statementTimeoutMs;
  const withSlot = async <T>(fn: () => Promise<T>): Promise<T> => {
    // A free slot is taken at once; only a wait needs its timer.
    const wait = slots.running < slots.max ? undefined : AbortSignal.timeout(busyFor);
    const release = await slots.acquire(wait).catch((err: unknown) => {
      throw new AppError('DB_8002', `The database is busy: no connection came free within ${busyFor} ms; try again shortly.`, undefined, { cause: err });
    });
    try {
      return await fn();
    } finally {
      release();
    }
  };

  const run = async <Row>(client: pg.Pool | pg.PoolClient, sql: string, params?: readonly SqlParam[]): Promise<QueryResult<Row>> => {
    const result = await client.query(sql, normalizeParams(params));
    return { rows: result.rows as Row[], rowCount: result.rowCount ?? 0 };
  };

  return {
    driver: 'postgres',
    query: (sql, params) => withRetry(() => withSlot(() => run(pool, sql, params))),
    transaction: (fn) =>
      withRetry(() => withSlot(async () => {
        const client = await pool.connect();
        let broken = false;
        try {
          await run(client, 'BEGIN');
          const tx: Queryable = { query: (sql, params) => run(client, sql, params) };
          const value = await fn(tx);
          await run(client, 'COMMIT');
          return value;
        } catch (err) {
          try {
            await client.query('ROLLBACK');
          } catch {
            broken = true;
          }
          throw err;
        } finally {
          client.release(broken);
        }
      })),
    async ping(timeoutMs) {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error('Connection terminated: ping timeout')), timeoutMs);
      });
      try {
        await Promise.race([pool.query('SELECT 1'), timeout]);
      } finally {
        clearTimeout(timer);
      }
    },
    poolStats: () => ({ total: pool.totalCount, idle: pool.idleCount, waiting: slots.waiting + pool.waitingCount }),
    close: () => (closing ??= pool.end()),
  };
}
