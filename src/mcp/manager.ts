/**
 * The MCP capability's entry point: reads the server configuration, runs one pool per
 * enabled server, caches each server's tool list, and hands out agent tools for a session's
 * `mcp_config`. A tool call leases one instance of one server at a time — never two — so pools
 * cannot deadlock; a call whose instance died is retried once on another instance.
 */
import { McpError, ErrorCode, type CallToolResult, type Tool } from '@modelcontextprotocol/sdk/types.js';
import type { FunctionTool } from '@openai/agents';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { McpApproval } from '../approvals/policy.js';
import type { Config } from '../config/config.js';
import { AppError } from '../errors/app-error.js';
import type { McpServerHealth } from '../health/health-sources.js';
import { builtinServers } from './builtins.js';
import { systemClock, type Clock } from './clock.js';
import { loadServerDefinitions, type ServerDefinition } from './config.js';
import { McpCallTimeoutError, McpLeaseTimeoutError, McpUnavailableError } from './errors.js';
import { startClientInstance, type InstanceFactory, type McpInstance } from './instance.js';
import { registerMcpMetrics, type McpMetrics } from './metrics.js';
import { ServerPool, type PoolStats } from './pool.js';
import { toFunctionTool } from './tool-adapter.js';
import { assignToolNames } from './tool-names.js';

/** Bound on one MCP tool call once an instance is leased. */
export const CALL_TIMEOUT_MS = 120_000;

export interface McpManagerOptions {
  config: Config['mcp'] & { dataDir: string; fetchAllowedHosts?: string | undefined };
  logger: Logger;
  /** prom-client registry the pool collectors are added to. */
  registry: Registry;
  /** Include `sequential-thinking` and `fetch` (default true). */
  builtins?: boolean;
  callTimeoutMs?: number;
  /** Grace before a closing stdio child is killed (default 5 s). */
  killGraceMs?: number;
  clock?: Clock;
  instanceFactory?: InstanceFactory;
}

/** An agent tool of an MCP server, with where it comes from. */
export interface McpSourcedTool {
  tool: FunctionTool;
  server: string;
  /** The server's own name for the tool. */
  name: string;
  approval: McpApproval | undefined;
}

export interface ServerDescription {
  id: string;
  name: string;
  description: string;
  enabled: boolean;
}

interface ToolCache {
  tools: Tool[] | undefined;
  stale: boolean;
  loading: Promise<void> | undefined;
}

function isConnectionFailure(err: unknown, instance: McpInstance): boolean {
  if (!instance.alive) return true;
  if (err instanceof McpError) return err.code === Number(ErrorCode.ConnectionClosed);
  // Not a JSON-RPC answer at all: the transport itself failed (HTTP server gone, broken pipe).
  return true;
}

export class McpManager {
  private readonly definitions: ServerDefinition[];
  private readonly pools = new Map<string, ServerPool>();
  private readonly toolCache = new Map<string, ToolCache>();
  private readonly logger: Logger;
  private readonly metrics: McpMetrics;
  private readonly callTimeoutMs: number;
  private started: Promise<void> | undefined;
  private closing: Promise<void> | undefined;

  /** Reads and validates the configuration; throws `McpConfigError` for a bad file. Starts nothing. */
  constructor(private readonly options: McpManagerOptions) {
    if (options.config.poolSize < 1) throw new RangeError('MCP pool size must be at least 1');
    this.logger = options.logger.child({ module: 'mcp' });
    this.callTimeoutMs = options.callTimeoutMs ?? CALL_TIMEOUT_MS;
    this.definitions = loadServerDefinitions(options.config.configPath, options.builtins === false ? [] : builtinServers({ fetchAllowedHosts: options.config.fetchAllowedHosts }));
    this.metrics = registerMcpMetrics(options.registry, () => this.poolStats());
  }

  /** Names of the enabled servers (what `mcp_config: null` means). */
  serverNames(): string[] {
    return this.definitions.filter((d) => d.enabled).map((d) => d.name);
  }

  /** Every configured server, for `/config`. */
  describeServers(): ServerDescription[] {
    return this.definitions.map((d) => ({ id: d.name, name: d.name, description: d.description, enabled: d.enabled }));
  }

  /** The names that are not enabled servers (an empty list means all are valid). */
  validateNames(names: readonly string[]): string[] {
    const known = new Set(this.serverNames());
    return [...new Set(names.filter((n) => !known.has(n)))];
  }

  /**
   * Starts `poolSize` instances of every enabled server and fetches their tool lists. Never
   * throws for a server that fails: that is logged, shown in `health()`, and retried with backoff.
   */
  start(): Promise<void> {
    if (this.closing) return Promise.resolve();
    this.started ??= this.startPools();
    return this.started;
  }

  /** `/health`: `{name: {total, available, healthy}}` for every enabled server. */
  health(): Record<string, McpServerHealth> {
    const out: Record<string, McpServerHealth> = {};
    for (const [name, s] of this.poolStats()) out[name] = { total: s.total, available: s.available, healthy: s.healthy };
    return out;
  }

  /** Full pool statistics, including leases, waiters, restarts. */
  poolStats(): Map<string, PoolStats> {
    return new Map([...this.pools].map(([name, pool]) => [name, pool.stats()]));
  }

  /** The pool of one server (diagnostics, tests). */
  pool(name: string): ServerPool | undefined {
    return this.pools.get(name);
  }

  /**
   * Agent tools of the servers named (`null` = every enabled server, `[]` = none). Unknown,
   * disabled or unreachable servers contribute no tools (logged), so a stale session still runs.
   */
  async toolsFor(names: readonly string[] | null, signal?: AbortSignal): Promise<FunctionTool[]> {
    return (await this.sourcedToolsFor(names, signal)).map((t) => t.tool);
  }

  /** `toolsFor`, each tool with its server, its name there and the entry's approval settings (src/approvals). */
  async sourcedToolsFor(names: readonly string[] | null, signal?: AbortSignal): Promise<McpSourcedTool[]> {
    await this.start();
    const wanted = (names ?? this.serverNames()).filter((n) => this.pools.has(n));
    if (wanted.length === 0) return [];
    await Promise.all(wanted.map((n) => this.refreshTools(n, signal)));
    const known = [...this.toolCache].flatMap(([server, c]) => (c.tools ? [{ server, tools: c.tools }] : []));
    const naming = assignToolNames(known.map(({ server, tools }) => ({ server, tools: tools.map((t) => t.name) })));
    const call = this.callTool.bind(this);
    const approvals = new Map(this.definitions.map((d) => [d.name, d.approval]));
    return known
      .filter(({ server }) => wanted.includes(server))
      .flatMap(({ server, tools }) =>
        tools.map((t) => ({
          tool: toFunctionTool(server, t, naming.get(server)?.get(t.name) ?? t.name, call),
          server,
          name: t.name,
          approval: approvals.get(server),
        })),
      );
  }

  /**
   * Calls `tool` on a leased instance of `server`. Throws AppError('EXT_7020') when no instance
   * frees up in time, the call times out or fails, or the server is unavailable; rethrows the
   * signal's reason when it aborts.
   */
  async callTool(server: string, tool: string, args: Record<string, unknown>, signal?: AbortSignal): Promise<CallToolResult> {
    const pool = this.pools.get(server);
    if (!pool) throw new AppError('EXT_7020', `MCP server "${server}" is not available.`);
    for (let attempt = 0; ; attempt++) {
      const instance = await this.lease(pool, signal);
      try {
        return await this.callOn(instance, server, tool, args, signal);
      } catch (err) {
        if (signal?.aborted) throw signal.reason;
        if (err instanceof McpCallTimeoutError) throw new AppError('EXT_7020', err.message, undefined, { cause: err });
        if (isConnectionFailure(err, instance)) {
          // The instance is unusable; close it so its slot replaces it, then try another one once.
          if (instance.alive) void instance.close();
          if (attempt === 0) {
            this.logger.warn({ mcp_server: server, tool }, 'mcp instance died during a call; retrying on another instance');
            continue;
          }
        }
        this.logger.warn({ mcp_server: server, tool, err: (err as Error).message }, 'mcp tool call failed');
        throw new AppError('EXT_7020', `MCP tool "${tool}" of server "${server}" failed.`, undefined, { cause: err });
      } finally {
        pool.release(instance);
      }
    }
  }

  /** Closes every pool: instances are asked to exit, and stdio children still alive after the grace are killed. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      await this.started?.catch(() => undefined);
      await Promise.allSettled([...this.pools.values()].map((p) => p.close()));
    })();
    return this.closing;
  }

  private async startPools(): Promise<void> {
    const clock = this.options.clock ?? systemClock;
    for (const definition of this.definitions.filter((d) => d.enabled)) {
      const cache: ToolCache = { tools: undefined, stale: true, loading: undefined };
      this.toolCache.set(definition.name, cache);
      const pool = new ServerPool({
        definition,
        size: this.options.config.poolSize,
        acquireTimeoutMs: this.options.config.acquireTimeoutMs,
        factory: this.options.instanceFactory ?? startClientInstance,
        clock,
        logger: this.logger.child({ mcp_server: definition.name }),
        ...(this.options.killGraceMs !== undefined ? { killGraceMs: this.options.killGraceMs } : {}),
        onToolsChanged: () => {
          cache.stale = true;
        },
      });
      pool.on('restart', () => this.metrics.restarts.inc({ server: definition.name }));
      this.pools.set(definition.name, pool);
    }
    await Promise.all(
      [...this.pools].map(async ([name, pool]) => {
        await pool.start();
        if (pool.stats().total > 0) await this.refreshTools(name);
        else this.logger.error({ mcp_server: name }, 'mcp server could not be started; its tools are unavailable until it recovers');
      }),
    );
  }

  /** Fetches a server's tool list when it was never fetched or a list_changed said it is stale. */
  private async refreshTools(server: string, signal?: AbortSignal): Promise<void> {
    const cache = this.toolCache.get(server);
    const pool = this.pools.get(server);
    if (!cache || !pool || (!cache.stale && cache.tools)) return;
    cache.loading ??= (async () => {
      cache.stale = false;
      let instance: McpInstance | undefined;
      try {
        instance = await this.lease(pool, signal);
        cache.tools = await instance.listTools(signal ?? new AbortController().signal);
      } catch (err) {
        cache.stale = true;
        this.logger.warn({ mcp_server: server, err: (err as Error).message }, 'mcp tool list unavailable');
      } finally {
        if (instance) pool.release(instance);
        cache.loading = undefined;
      }
    })();
    await cache.loading;
  }

  private async lease(pool: ServerPool, signal?: AbortSignal): Promise<McpInstance> {
    try {
      return await pool.acquire(signal);
    } catch (err) {
      if (signal?.aborted) throw signal.reason;
      if (err instanceof McpLeaseTimeoutError || err instanceof McpUnavailableError) {
        throw new AppError('EXT_7020', err.message, undefined, { cause: err });
      }
      throw err;
    }
  }

  private async callOn(
    instance: McpInstance,
    server: string,
    tool: string,
    args: Record<string, unknown>,
    signal?: AbortSignal,
  ): Promise<CallToolResult> {
    // A per-call controller, so a long-lived turn signal does not collect one listener per call.
    const local = new AbortController();
    const onAbort = () => local.abort(signal?.reason);
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      return await instance.callTool(tool, args, { signal: local.signal, timeoutMs: this.callTimeoutMs });
    } catch (err) {
      if (err instanceof McpError && err.code === Number(ErrorCode.RequestTimeout)) throw new McpCallTimeoutError(server, tool, this.callTimeoutMs);
      throw err;
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
  }
}
