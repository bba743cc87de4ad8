/**
 * The composition root: builds every capability from the configuration and wires them into one
 * Fastify server. It only wires; behaviour lives in the capability folders.
 */
import type { Logger } from 'pino';
import type { Config } from './config/config.js';
import type { Database } from './db/database.js';
import { migrate } from './db/migrate.js';
import { defaultHealthSources, type HealthSources } from './health/health-sources.js';
import { registerHealthRoutes } from './health/routes.js';
import { createHttpServer, type PulpFastify } from './http/server.js';
import { createMetrics, type Metrics } from './observability/metrics.js';
import { VERSION } from './version.js';

export interface PulpServer {
  app: PulpFastify;
  config: Config;
  db: Database;
  metrics: Metrics;
  health: HealthSources;
  /** Stops accepting, ends running work, closes sockets, pools and the database — in that order. */
  close(): Promise<void>;
}

export interface CreatePulpOptions {
  config: Config;
  db: Database;
  logger: Logger;
  /** Collect process metrics (off in tests, where many servers share one process). */
  defaultMetrics?: boolean;
}

export async function createPulp(options: CreatePulpOptions): Promise<PulpServer> {
  const { config, db, logger } = options;
  await migrate(db);
  const metrics = createMetrics({ defaultMetrics: options.defaultMetrics ?? false });
  const health = defaultHealthSources({ provider: config.llm.provider, mode: config.llm.apiMode });
  const app = await createHttpServer({ logger, metrics, debug: config.debug, version: VERSION });

  registerHealthRoutes(app, { db, metrics, sources: health, version: VERSION, startedAt: Date.now() });

  app.addHook('onClose', async () => {
    await db.close();
  });
  await app.ready();

  let closing: Promise<void> | undefined;
  return {
    app,
    config,
    db,
    metrics,
    health,
    close: () => (closing ??= app.close()),
  };
}
