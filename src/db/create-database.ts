/** Picks the driver from the configuration and waits for the database at startup. */
import path from 'node:path';
import type { Logger } from 'pino';
import type { Database } from './database.js';
import { backoffDelay, type RetryPolicy } from './retry.js';

export interface DatabaseConfig {
  databaseUrl: string | undefined;
  dataDir: string;
  dbPoolMax: number;
  dbStatementTimeoutMs: number;
}

/** Startup waits longer than a request would: a database that boots with the server gets ~30 s. */
export const STARTUP_RETRY: RetryPolicy = { attempts: 6, baseDelayMs: 500, maxDelayMs: 8_000 };

export class DatabaseUnreachableError extends Error {
  override name = this.constructor.name;
}

/** Opens the configured database. Only the chosen driver is loaded (PGlite's alone is tens of MB). */
export async function createDatabase(config: DatabaseConfig, logger: Logger): Promise<Database> {
  if (!config.databaseUrl) {
    const { createPgliteDatabase } = await import('./pglite-driver.js');
    return createPgliteDatabase(path.join(config.dataDir, 'db'));
  }
  const { createPostgresDatabase } = await import('./postgres-driver.js');
  return createPostgresDatabase({
    url: config.databaseUrl,
    poolMax: config.dbPoolMax,
    statementTimeoutMs: config.dbStatementTimeoutMs,
    logger,
  });
}

/** Pings until the database answers; throws `DatabaseUnreachableError` after the last attempt. */
export async function waitForDatabase(
  db: Database,
  logger: Logger,
  policy: RetryPolicy = STARTUP_RETRY,
  sleep: (ms: number) => Promise<void> = (ms) => new Promise((r) => setTimeout(r, ms)),
): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await db.ping(5_000);
      return;
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      if (attempt >= policy.attempts) {
        throw new DatabaseUnreachableError(`database unreachable after ${attempt} attempts: ${reason}`, { cause: err });
      }
      const delay = backoffDelay(policy, attempt);
      logger.warn({ attempt, delay_ms: delay }, `database not reachable yet (${reason}); retrying`);
      await sleep(delay);
    }
  }
}
