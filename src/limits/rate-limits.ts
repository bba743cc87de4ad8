/**
 * Fixed-window counters over rate-limiter-flexible. With several servers on one PostgreSQL the
 * counts live in `rate_limits` (migration 005), so a limit holds for the whole cluster; with PGlite,
 * which one server owns, they live in memory. A store that fails falls back to an in-memory count
 * of its own (the library's insurance limiter): a database outage never turns a limit into a 500.
 */
import { Counter, type Registry } from 'prom-client';
import { RateLimiterMemory, RateLimiterPostgres, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import type { AppError } from '../errors/app-error.js';
import type { Database, SqlParam } from '../db/database.js';

export const RATE_LIMITS_TABLE = 'rate_limits';
/** How often a server deletes counters whose window has passed. */
export const PRUNE_INTERVAL_MS = 5 * 60_000;

export interface LimitSpec {
  /** Names the counter in the shared table (keys are `name:key`); unique per limit. */
  name: string;
  /** Hits allowed per window. */
  points: number;
  windowS: number;
  /** The error a refused hit throws, given the whole seconds until the window ends (≥ 1). */
  refuse: (retryAfterS: number) => AppError;
}

/** One limit: `hit(key)` counts one and throws the spec's error past `points` in the window. */
export class RateLimit {
  readonly #limiter: RateLimiterAbstract;
  readonly #onRefused: () => void;

  constructor(
    readonly spec: LimitSpec,
    limiter: RateLimiterAbstract,
    onRefused: () => void = () => undefined,
  ) {
    this.#limiter = limiter;
    this.#onRefused = onRefused;
  }

  async hit(key: string): Promise<void> {
    try {
      await this.#limiter.consume(key);
    } catch (err) {
      if (!(err instanceof RateLimiterRes)) throw err;
      this.#onRefused();
      throw this.spec.refuse(Math.max(1, Math.ceil(err.msBeforeNext / 1000)));
    }
  }
}

export interface RateLimitStoreOptions {
  /** The shared database, when several servers may share it (PostgreSQL); undefined → in memory. */
  db: Database | undefined;
  /** Where `pulp_limit_refusals_total{limit}` is registered (none in unit tests). */
  registry?: Registry | undefined;
}

/** Makes limits on one store and prunes its expired rows until `close()`. */
export class RateLimitStore {
  readonly #db: Database | undefined;
  readonly #refusals: Counter<'limit'> | undefined;
  #pruneTimer: NodeJS.Timeout | undefined;

  constructor(options: RateLimitStoreOptions) {
    this.#db = options.db;
    this.#refusals = options.registry
      ? new Counter({ name: 'pulp_limit_refusals_total', help: 'Requests and chat messages refused by a limit', labelNames: ['limit'] as const, registers: [options.registry] })
      : undefined;
    if (this.#db) {
      this.#pruneTimer = setInterval(() => {
        this.prune().catch(() => undefined);
      }, PRUNE_INTERVAL_MS).unref();
    }
  }

  /** True when counts are shared through the database. */
  get shared(): boolean {
    return this.#db !== undefined;
  }

  /** Counts one refusal of the limit `name` for /metrics. */
  countRefusal(name: string): void {
    this.#refusals?.inc({ limit: name });
  }

  limit(spec: LimitSpec): RateLimit {
    const common = { keyPrefix: spec.name, points: spec.points, duration: spec.windowS };
    const onRefused = () => this.countRefusal(spec.name);
    if (!this.#db) return new RateLimit(spec, new RateLimiterMemory(common), onRefused);
    const db = this.#db;
    const limiter = new RateLimiterPostgres({
      ...common,
      // The library speaks to a pg-like `query({ text, values })`; ours retries transient failures
      // and applies the statement timeout.
      storeClient: { query: (q: { text: string; values?: unknown[] }) => db.query(q.text, q.values as SqlParam[] | undefined) },
      storeType: 'pool',
      tableName: RATE_LIMITS_TABLE,
      // The table comes from a migration, and pruning is ours (a timer this store stops).
      tableCreated: true,
      clearExpiredByTimeout: false,
      insuranceLimiter: new RateLimiterMemory(common),
    });
    return new RateLimit(spec, limiter, onRefused);
  }

  /** Deletes counters whose window ended; returns how many. */
  async prune(now = Date.now()): Promise<number> {
    if (!this.#db) return 0;
    const { rowCount } = await this.#db.query(`DELETE FROM ${RATE_LIMITS_TABLE} WHERE expire < $1`, [now]);
    return rowCount;
  }

  close(): void {
    if (this.#pruneTimer) clearInterval(this.#pruneTimer);
    this.#pruneTimer = undefined;
  }
}
