/** Liveness, readiness, the health summary, and Prometheus `/metrics`. */
import { Gauge } from 'prom-client';
import { z } from 'zod';
import type { Database } from '../db/database.js';
import type { Metrics } from '../observability/metrics.js';
import { API_PREFIX, type PulpFastify } from '../http/server.js';
import type { HealthSources } from './health-sources.js';
import { requireMetricsToken } from './metrics-token.js';

/** `/health/ready` answers 503 when the database does not answer within this bound. */
export const READY_TIMEOUT_MS = 2_000;

export interface HealthDeps {
  db: Database;
  metrics: Metrics;
  sources: HealthSources;
  version: string;
  startedAt: number;
  /** `METRICS_TOKEN`: when set, `/metrics` needs it as a bearer token. */
  metricsToken?: string | undefined;
}

async function databaseHealthy(db: Database): Promise<boolean> {
  try {
    await db.ping(READY_TIMEOUT_MS);
    return true;
  } catch {
    return false;
  }
}

export function registerHealthRoutes(app: PulpFastify, deps: HealthDeps): void {
  const { db, metrics, sources } = deps;
  const poolGauge = new Gauge({
    name: 'pulp_db_pool_connections',
    help: 'Database pool connections by state',
    labelNames: ['state'] as const,
    registers: [metrics.registry],
    collect() {
      const stats = db.poolStats();
      this.set({ state: 'total' }, stats.total);
      this.set({ state: 'idle' }, stats.idle);
      this.set({ state: 'waiting' }, stats.waiting);
    },
  });
  void poolGauge;

  const tags = ['health'];
  app.get(`${API_PREFIX}/health/live`, { schema: { tags, response: { 200: z.object({ alive: z.literal(true) }) } } }, async () => ({
    alive: true as const,
  }));

  app.get(`${API_PREFIX}/health/ready`, { schema: { tags } }, async (_request, reply) => {
    const healthy = await databaseHealthy(db);
    if (healthy) return { ready: true };
    return reply.code(503).send({ ready: false, checks: { database: false } });
  });

  app.get(`${API_PREFIX}/health`, { schema: { tags } }, async () => {
    const healthy = await databaseHealthy(db);
    const mcp = sources.mcp();
    const mcpDegraded = Object.values(mcp).some((s) => !s.healthy);
    return {
      status: !healthy ? 'unhealthy' : mcpDegraded ? 'degraded' : 'healthy',
      version: deps.version,
      uptime_s: Math.round((Date.now() - deps.startedAt) / 1000),
      database: { healthy, driver: db.driver, pool: db.poolStats() },
      websocket: sources.websocket(),
      mcp: { servers: mcp },
      llm: sources.llm(),
      code_interpreter: sources.codeInterpreter(),
      cluster: sources.cluster(),
    };
  });

  const guarded = deps.metricsToken ? { onRequest: requireMetricsToken(deps.metricsToken) } : {};
  app.get('/metrics', { schema: { hide: true }, ...guarded }, async (_request, reply) => {
    reply.type(metrics.registry.contentType);
    return metrics.registry.metrics();
  });
}
