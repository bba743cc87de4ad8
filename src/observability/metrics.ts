/**
 * Prometheus metrics. One registry per server instance, so tests can run several;
 * modules add their own collectors to `metrics.registry`.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface Metrics {
  registry: Registry;
  httpRequests: Counter<'method' | 'route' | 'status'>;
  httpDuration: Histogram<'method' | 'route'>;
  wsConnections: Gauge;
  turns: Counter<'finish_reason'>;
  timeToFirstToken: Histogram;
  turnDuration: Histogram;
  tokens: Counter<'direction'>;
  summarizations: Counter<'outcome'>;
}

export function createMetrics(options: { defaultMetrics?: boolean } = {}): Metrics {
  const registry = new Registry();
  if (options.defaultMetrics) collectDefaultMetrics({ register: registry, prefix: 'pulp_' });
  const registers = [registry];
  return {
    registry,
    httpRequests: new Counter({
      name: 'pulp_http_requests_total',
      help: 'HTTP requests by route and status',
      labelNames: ['method', 'route', 'status'] as const,
      registers,
    }),
    httpDuration: new Histogram({
      name: 'pulp_http_request_duration_seconds',
      help: 'HTTP request duration',
      labelNames: ['method', 'route'] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    }),
    wsConnections: new Gauge({ name: 'pulp_websocket_connections', help: 'Open WebSocket connections', registers }),
    turns: new Counter({
      name: 'pulp_turns_total',
      help: 'Chat turns by finish reason',
      labelNames: ['finish_reason'] as const,
      registers,
    }),
    timeToFirstToken: new Histogram({
      name: 'pulp_time_to_first_token_seconds',
      help: 'Message received to first streamed delta',
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
    turnDuration: new Histogram({
      name: 'pulp_turn_duration_seconds',
      help: 'Chat turn duration',
      buckets: [0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300],
      registers,
    }),
    tokens: new Counter({
      name: 'pulp_tokens_total',
      help: 'Model tokens by direction (input, output)',
      labelNames: ['direction'] as const,
      registers,
    }),
    summarizations: new Counter({
      name: 'pulp_summarizations_total',
      help: 'Summarizations by outcome',
      labelNames: ['outcome'] as const,
      registers,
    }),
  };
}
