/**
 * One running MCP server instance: an SDK `Client` connected over stdio (our own child transport)
 * or Streamable HTTP. It knows whether it is alive, resolves `closed` when its connection ends
 * for any reason, and reports `notifications/tools/list_changed`.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import {
  CallToolResultSchema,
  ToolListChangedNotificationSchema,
  type CallToolResult,
  type Tool,
} from '@modelcontextprotocol/sdk/types.js';
import type { Logger } from 'pino';
import { VERSION } from '../version.js';
import { ChildProcessTransport } from './child-transport.js';
import type { ServerDefinition } from './config.js';
import { McpStartError } from './errors.js';

/** Bound on connecting and the `initialize` handshake. */
export const START_TIMEOUT_MS = 30_000;
/** Bound on one `tools/list` page. */
export const LIST_TIMEOUT_MS = 30_000;
/** Bound on telling an HTTP server that our session ends. */
const TERMINATE_TIMEOUT_MS = 2_000;

export interface McpInstance {
  readonly server: string;
  /** Operating-system pid of a stdio server; null for HTTP. */
  readonly pid: number | null;
  readonly alive: boolean;
  /** Resolves once the connection has ended (the process died, or close() ran). */
  readonly closed: Promise<void>;
  callTool(name: string, args: Record<string, unknown>, options: { signal: AbortSignal; timeoutMs: number }): Promise<CallToolResult>;
  listTools(signal: AbortSignal): Promise<Tool[]>;
  close(): Promise<void>;
}

export interface InstanceHooks {
  logger: Logger;
  onToolsChanged: () => void;
  killGraceMs?: number;
}

/** Starts instances of one server definition; the pool's seam for tests and other transports. */
export type InstanceFactory = (definition: ServerDefinition, signal: AbortSignal, hooks: InstanceHooks) => Promise<McpInstance>;

class ClientInstance implements McpInstance {
  alive = true;
  readonly closed: Promise<void>;
  private markClosed!: () => void;

  constructor(
    readonly server: string,
    private readonly client: Client,
    private readonly transport: ChildProcessTransport | StreamableHTTPClientTransport,
  ) {
    this.closed = new Promise((resolve) => {
      this.markClosed = resolve;
    });
    client.onclose = () => {
      this.alive = false;
      this.markClosed();
    };
  }

  get pid(): number | null {
    return this.transport instanceof ChildProcessTransport ? this.transport.pid : null;
  }

  async callTool(name: string, args: Record<string, unknown>, options: { signal: AbortSignal; timeoutMs: number }): Promise<CallToolResult> {
    const result = await this.client.callTool({ name, arguments: args }, CallToolResultSchema, {
      signal: options.signal,
      timeout: options.timeoutMs,
    });
    return CallToolResultSchema.parse(result);
  }

  async listTools(signal: AbortSignal): Promise<Tool[]> {
    const tools: Tool[] = [];
    let cursor: string | undefined;
    do {
      const page = await this.client.listTools(cursor ? { cursor } : undefined, { signal, timeout: LIST_TIMEOUT_MS });
      tools.push(...page.tools);
      cursor = page.nextCursor;
    } while (cursor);
    return tools;
  }

  async close(): Promise<void> {
    this.alive = false;
    if (this.transport instanceof StreamableHTTPClientTransport) {
      // Best effort: tell the server the session is over; a dead server must not hold us up.
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        this.transport.terminateSession().catch(() => undefined),
        new Promise((resolve) => (timer = setTimeout(resolve, TERMINATE_TIMEOUT_MS))),
      ]).finally(() => clearTimeout(timer));
    }
    await this.client.close().catch(() => undefined);
    await this.transport.close().catch(() => undefined);
    this.markClosed();
  }
}

/** The default factory: spawns (stdio) or connects (HTTP), then runs `initialize`. */
export const startClientInstance: InstanceFactory = async (definition, signal, hooks) => {
  const logger = hooks.logger.child({ mcp_server: definition.name });
  const t = definition.transport;
  const transport =
    t.kind === 'stdio'
      ? new ChildProcessTransport({
          command: t.command,
          args: t.args,
          env: t.env,
          ...(t.cwd ? { cwd: t.cwd } : {}),
          logger,
          ...(hooks.killGraceMs !== undefined ? { killGraceMs: hooks.killGraceMs } : {}),
        })
      : new StreamableHTTPClientTransport(new URL(t.url), { requestInit: { headers: t.headers } });
  const client = new Client({ name: 'pulp', version: VERSION }, { capabilities: {} });
  client.onerror = (err) => logger.debug({ err: err.message }, 'mcp transport error');
  client.setNotificationHandler(ToolListChangedNotificationSchema, () => hooks.onToolsChanged());
  const instance = new ClientInstance(definition.name, client, transport);
  try {
    await client.connect(transport, { signal, timeout: START_TIMEOUT_MS });
  } catch (err) {
    await instance.close();
    throw new McpStartError(definition.name, err instanceof Error ? err.message : String(err), { cause: err });
  }
  return instance;
};
