/**
 * The one database interface every module uses (`query`, `transaction`), with two drivers behind
 * it: node-postgres for `DATABASE_URL` and PGlite on disk otherwise. Both return the same JS
 * values: int8 as number, jsonb as parsed JSON, timestamptz as Date.
 *
 * Parameters: plain objects are sent as JSON text (for jsonb columns); arrays are sent as
 * PostgreSQL arrays — pass `JSON.stringify(list)` yourself for a jsonb array.
 */

export type SqlParam = string | number | boolean | null | undefined | Date | Buffer | readonly unknown[] | Record<string, unknown>;

export interface QueryResult<Row> {
  rows: Row[];
  rowCount: number;
}

export interface Queryable {
  query<Row = Record<string, unknown>>(sql: string, params?: readonly SqlParam[]): Promise<QueryResult<Row>>;
}

export interface PoolStats {
  total: number;
  idle: number;
  waiting: number;
}

export type DriverName = 'postgres' | 'pglite';

export interface Database extends Queryable {
  readonly driver: DriverName;
  /** Runs `fn` in one transaction; rolls back when it throws. Transient failures retry the whole `fn`. */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  /** Resolves when the database answers `SELECT 1` within `timeoutMs`. */
  ping(timeoutMs: number): Promise<void>;
  poolStats(): PoolStats;
  close(): Promise<void>;
}

/** Sends plain objects as JSON text; leaves everything else to the driver. */
export function normalizeParams(params: readonly SqlParam[] | undefined): unknown[] {
  if (!params) return [];
  return params.map((p) => {
    if (p === undefined) return null;
    if (p === null || typeof p !== 'object' || p instanceof Date || Buffer.isBuffer(p) || Array.isArray(p)) return p;
    return JSON.stringify(p);
  });
}
