/**
 * Prometheus collectors for the MCP pools: instances total and leased, callers
 * waiting for a lease, restarts. Gauges read the pools at scrape time.
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import type { PoolStats } from './pool.js';

export interface McpMetrics {
  restarts: Counter<'server'>;
}

export function registerMcpMetrics(registry: Registry, stats: () => Map<string, PoolStats>): McpMetrics {
  const registers = [registry];
  new Gauge({
    name: 'pulp_mcp_instances',
    help: 'MCP server instances by state (total = live, leased = running a tool call)',
    labelNames: ['server', 'state'] as const,
    registers,
    collect() {
      for (const [server, s] of stats()) {
        this.set({ server, state: 'total' }, s.total);
        this.set({ server, state: 'leased' }, s.leased);
      }
    },
  });
  new Gauge({
    name: 'pulp_mcp_lease_waiting',
    help: 'Tool calls waiting for a free MCP server instance',
    labelNames: ['server'] as const,
    registers,
    collect() {
      for (const [server, s] of stats()) this.set({ server }, s.waiting);
    },
  });
  return {
    restarts: new Counter({
      name: 'pulp_mcp_restarts_total',
      help: 'MCP server instances replaced after they died',
      labelNames: ['server'] as const,
      registers,
    }),
  };
}
