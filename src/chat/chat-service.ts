/**
 * The chat capability without the transport: starts turns through the coordinator (one per
 * session), sends events through the registry, interrupts, and shuts down in order. The WebSocket
 * routes and the REST routes (DELETE interrupts a running turn) both use it.
 */
import { randomUUID } from 'node:crypto';
import type { AgentInputItem, ModelProvider, Tool } from '@openai/agents';
import type { Logger } from 'pino';
import type { Authenticate } from '../auth/types.js';
import type { Config } from '../config/config.js';
import type { Database } from '../db/database.js';
import type { AppError } from '../errors/app-error.js';
import type { Metrics } from '../observability/metrics.js';
import type { FindOwnedSession, SessionRow } from '../sessions/types.js';
import { type CancelReason, UserInterrupt } from './cancellation.js';
import { ConnectionRegistry } from './connections.js';
import { LocalEventBus, type ChatEventBus } from './event-bus.js';
import type { FinishReason, MessageFrame, ResumeFrame, ServerEvent } from './events.js';
import { LocalTurnCoordinator, type TurnCoordinator } from './turn-coordinator.js';
import { defaultClassifyError } from './turn-errors.js';
import { runTurn, type TurnDeps, type TurnHooks } from './turn.js';

/** On shutdown, running turns get this long to save their partials. */
export const SHUTDOWN_WAIT_MS = 10_000;

export interface ChatDeps {
  db: Database;
  config: Config;
  logger: Logger;
  metrics: Metrics;
  /** Token (or undefined) → user; throws AppError AUTH_1001/1002/1003. */
  authenticate: Authenticate;
  findOwnedSession: FindOwnedSession;
  modelProvider: ModelProvider;
  /** Workspace + MCP tools of the session; default none. Tools get the turn's signal in `details.signal`. */
  tools?: (session: SessionRow) => Promise<Tool[]>;
  /** System prompt of the session; default `defaultInstructions`. */
  instructions?: (session: SessionRow) => Promise<string>;
  countTokens: (model: string, items: AgentInputItem[]) => number;
  contextWindow: (model: string) => number;
  hooks?: TurnHooks;
  /** Turn failure → wire error; default `defaultClassifyError`. */
  classifyError?: (err: unknown) => AppError;
  /**
   * How turns and events are shared: default one process (LocalTurnCoordinator, LocalEventBus);
   * src/cluster gives the PostgreSQL-backed pair for several servers.
   */
  distribution?: (registry: ConnectionRegistry) => { coordinator: TurnCoordinator; events: ChatEventBus };
  /** Test seams: text checkpoint interval and delta coalescing window. */
  checkpointMs?: number;
  coalesceMs?: number;
}

export async function defaultInstructions(session: SessionRow): Promise<string> {
  const mcp = session.mcp_config && session.mcp_config.length > 0 ? ` MCP servers enabled: ${session.mcp_config.join(', ')}.` : '';
  return (
    'You are Pulp, a helpful assistant in a self-hosted chat. Answer clearly and concisely in Markdown. ' +
    'Use the tools you are given when they help, and say what you did with them.' +
    mcp
  );
}

export interface StartTurnInput {
  session: SessionRow;
  frame: MessageFrame;
  requestId: string;
}

export class ChatService {
  readonly registry: ConnectionRegistry;
  readonly coordinator: TurnCoordinator;
  readonly events: ChatEventBus;
  #turnDeps: TurnDeps;
  #closing = false;

  constructor(private readonly deps: ChatDeps) {
    this.registry = new ConnectionRegistry({
      maxConnections: deps.config.ws.maxConnections,
      maxConnectionsPerSession: deps.config.ws.maxConnectionsPerSession,
    });
    const shared = deps.distribution?.(this.registry) ?? {
      coordinator: new LocalTurnCoordinator(),
      events: new LocalEventBus(this.registry),
    };
    this.coordinator = shared.coordinator;
    this.events = shared.events;
    this.#turnDeps = {
      db: deps.db,
      logger: deps.logger.child({ module: 'chat' }),
      metrics: deps.metrics,
      sink: this.events,
      modelProvider: deps.modelProvider,
      tools: deps.tools ?? (async () => []),
      instructions: deps.instructions ?? defaultInstructions,
      countTokens: deps.countTokens,
      contextWindow: deps.contextWindow,
      classifyError: deps.classifyError ?? defaultClassifyError,
      ...(deps.hooks ? { hooks: deps.hooks } : {}),
      ...(deps.checkpointMs !== undefined ? { checkpointMs: deps.checkpointMs } : {}),
      ...(deps.coalesceMs !== undefined ? { coalesceMs: deps.coalesceMs } : {}),
    };
  }

  get closing(): boolean {
    return this.#closing;
  }

  /**
   * Starts a turn (interrupting the session's running one first). Resolves with the turn's finish
   * reason when it has ended; callers on a socket do not await it.
   */
  startTurn(input: StartTurnInput): Promise<FinishReason | undefined> {
    let finish: FinishReason | undefined;
    const turnId = `turn_${randomUUID().replaceAll('-', '').slice(0, 16)}`;
    const done = this.coordinator.start(input.session.id, async (token) => {
      finish = await runTurn(this.#turnDeps, {
        sessionUuid: input.session.id,
        sessionId: input.session.session_id,
        turnId,
        contents: input.frame.messages.map((m) => m.content),
        ...(input.frame.model ? { model: input.frame.model } : {}),
        ...(input.frame.reasoning_effort ? { reasoningEffort: input.frame.reasoning_effort } : {}),
        token,
        requestId: input.requestId,
      });
    }, turnId);
    return done.then(() => finish);
  }

  /** Interrupts the session's running turn; false when none runs. */
  interrupt(sessionUuid: string, reason: CancelReason = new UserInterrupt()): boolean {
    return this.coordinator.interrupt(sessionUuid, reason);
  }

  /** `resume`: the session's events of one turn after `after_seq`. */
  replay(sessionUuid: string, frame: ResumeFrame): Promise<ServerEvent[] | undefined> {
    return this.events.replay(sessionUuid, frame.turn_id, frame.after_seq);
  }

  /** Shutdown: server_shutdown to everyone, interrupt turns, wait for partials, close with 1001. */
  async shutdown(waitMs = SHUTDOWN_WAIT_MS): Promise<void> {
    if (this.#closing) return;
    this.#closing = true;
    const conns = this.registry.all();
    for (const conn of conns) {
      conn.send(JSON.stringify({ type: 'server_shutdown', session_id: conn.sessionId, message: 'The server is shutting down.' }));
    }
    await this.coordinator.shutdown(waitMs);
    for (const conn of this.registry.all()) conn.close(1001, 'Server shutting down');
    await this.events.close();
  }
}
