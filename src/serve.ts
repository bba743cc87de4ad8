/**
 * The server process: configuration, database, server, signals. Exits non-zero with one clear
 * line when the configuration is invalid or the database cannot be reached. `main.ts` runs it.
 */
import { ConfigError, loadConfig, readEnvironment } from './config/config.js';
import { createDatabase, DatabaseUnreachableError, STARTUP_RETRY, waitForDatabase } from './db/create-database.js';
import { DataDirInUseError } from './db/data-dir-lock.js';
import { makeDataDirPrivate } from './data-dir/private-modes.js';
import { createLogger } from './observability/logger.js';
import { createPulp } from './app.js';

const SHUTDOWN_GRACE_MS = 12_000;

export async function serve(): Promise<void> {
  // Everything the server creates is owner-only (PGlite and libraries create files with default
  // modes); the sandbox's folders set their own modes explicitly (src/workspace).
  process.umask(0o077);
  let config;
  try {
    config = loadConfig(readEnvironment());
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  const logger = createLogger(config.log);
  const privacy = await makeDataDirPrivate(config.dataDir);
  if (privacy.tightened > 0 || privacy.failed > 0 || privacy.truncated) {
    logger.warn(
      { data_dir: config.dataDir, ...privacy },
      `tightened the modes of ${privacy.tightened} entries in DATA_DIR so only this user can read them` +
        (privacy.failed > 0 ? ` (${privacy.failed} could not be changed)` : '') +
        (privacy.truncated ? ' (stopped after the first 200000 entries)' : ''),
    );
  }
  let db;
  try {
    db = await createDatabase(config, logger);
  } catch (err) {
    if (err instanceof DataDirInUseError) {
      logger.fatal(err.message);
      process.exit(2);
    }
    throw err;
  }
  try {
    await waitForDatabase(db, logger, { ...STARTUP_RETRY, attempts: config.dbStartupAttempts });
  } catch (err) {
    if (err instanceof DatabaseUnreachableError) {
      logger.fatal(err.message);
      await db.close().catch(() => undefined);
      process.exit(3);
    }
    throw err;
  }
  const server = await createPulp({ config, db, logger, defaultMetrics: true });
  // PGlite gives its files mode 0666 whatever the umask; its folder is already 0700, and this makes
  // the files themselves private too (again after shutdown, for files made while running).
  const afterOpen = await makeDataDirPrivate(config.dataDir);
  logger.debug({ tightened: afterOpen.tightened }, 'database files made private');
  const address = await server.app.listen({ host: config.host, port: config.port });
  logger.info({ address, database: db.driver, llm: config.llm.provider, auth: config.auth.mode }, `Pulp listening on ${address}`);

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) {
      logger.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    stopping = true;
    logger.info({ signal }, 'shutting down');
    const force = setTimeout(() => {
      logger.error('shutdown took too long; exiting');
      process.exit(1);
    }, SHUTDOWN_GRACE_MS);
    force.unref();
    server.close().then(
      async () => {
        await makeDataDirPrivate(config.dataDir).catch((err: unknown) => logger.warn({ err }, 'could not tighten DATA_DIR modes'));
        logger.info('shutdown complete');
        logger.flush?.();
        process.exit(0);
      },
      (err: unknown) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

