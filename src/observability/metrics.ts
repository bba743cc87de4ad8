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
  /** Model calls as the usage ledger records them; no per-user labels (one series per model). */
  modelCalls: Counter<'model' | 'provider' | 'purpose'>;
  modelTokens: Counter<'model' | 'provider' | 'kind'>;
  modelCost: Counter<'model' | 'provider'>;
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
    modelCalls: new Counter({
      name: 'pulp_model_calls_total',
      help: 'Model calls by model, provider and purpose (turn, summary, title, embedding)',
      labelNames: ['model', 'provider', 'purpose'] as const,
      registers,
    }),
    modelTokens: new Counter({
      name: 'pulp_model_tokens_total',
      help: 'Tokens the provider reported, by model, provider and kind (input, cached_input, output, reasoning)',
      labelNames: ['model', 'provider', 'kind'] as const,
      registers,
    }),
    modelCost: new Counter({
      name: 'pulp_model_cost_usd_total',
      help: 'Cost in USD from MODEL_PRICES, by model and provider (calls without a price add nothing)',
      labelNames: ['model', 'provider'] as const,
      registers,
    }),
  };
}
