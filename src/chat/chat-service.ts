/**
 * The chat capability without the transport: starts turns through the coordinator (one per
 * session), sends events through the registry, interrupts, and shuts down in order. The WebSocket
 * routes and the REST routes (DELETE interrupts a running turn) both use it.
 */
import type { PreparedAttachments } from './attachments.js';
import { randomUUID } from 'node:crypto';
import type { Authenticate } from '../auth/types.js';
import type { Config } from '../config/config.js';
import type { FindOwnedSession, SessionRow } from '../sessions/types.js';
import { type CancelReason, UserInterrupt } from './cancellation.js';
import { ConnectionRegistry, type AddResult, type ChatConnection } from './connections.js';
import { LocalEventBus, type ChatEventBus } from './event-bus.js';
import { FOLLOW, type TurnBranch } from './branch.js';
import type { DecisionFrame, FinishReason, ResumeFrame, ServerEvent, TurnFrame } from './events.js';
import { StreamPace } from './stream-pace.js';
import { LocalTurnCoordinator, type TurnCoordinator } from './turn-coordinator.js';
import type { TurnResume } from './turn-pause.js';
import { runTurn, type TurnDeps } from './turn.js';

/** On shutdown, running turns get this long to save their partials. */
export const SHUTDOWN_WAIT_MS = 10_000;

/** What a turn needs (TurnDeps, without the event sink the service makes), and the socket's own needs. */
export interface ChatDeps extends Omit<TurnDeps, 'sink'> {
  config: Config;
  /** Token (or undefined) → user; throws AppError AUTH_1001/1002/1003. */
  authenticate: Authenticate;
  findOwnedSession: FindOwnedSession;
  /**
   * How turns and events are shared: default one process (LocalTurnCoordinator, LocalEventBus);
   * src/cluster gives the PostgreSQL-backed pair for several servers.
   */
  distribution?: (registry: ConnectionRegistry) => { coordinator: TurnCoordinator; events: ChatEventBus };
  /**
   * Admits a `message` frame of a user in a session before its turn starts, or throws an AppError
   * (a per-user limit) that the socket sends as a recoverable `error`. Default: every message.
   */
  admitMessage?: (userId: string, sessionUuid: string) => Promise<void>;
  /** An `approve` / `deny` frame of a user (`by`: their email) in a session; throws AppError RES_3060 / RES_3061 (src/approvals). */
  decide?: (session: SessionRow, frame: DecisionFrame, by: string) => Promise<void>;
  /** A session's directory by its public id, where a message's attachments are read; without it attachments are ignored. */
  sessionRoot?: (sessionPublicId: string) => string;
}

export interface StartTurnInput {
  session: SessionRow;
  frame: TurnFrame;
  requestId: string;
  /** Where the turn runs in the tree (`resolveBranch`); default after the active leaf. */
  branch?: TurnBranch;
  /** The message's files, checked and read (`prepareAttachments`). */
  attachments?: PreparedAttachments;
}

export class ChatService {
  readonly #registry: ConnectionRegistry;
  readonly #coordinator: TurnCoordinator;
  readonly #events: ChatEventBus;
  readonly #turnDeps: TurnDeps;
  /** Turns started on this server and not yet ended, per session (a session's next turn may wait for its previous one). */
  readonly #localTurns = new Map<string, { userId: string; count: number }>();
  #closing = false;

  constructor(deps: ChatDeps) {
    this.#registry = new ConnectionRegistry({
      maxConnections: deps.config.ws.maxConnections,
      maxConnectionsPerSession: deps.config.ws.maxConnectionsPerSession,
      maxConnectionsPerUser: deps.config.ws.maxConnectionsPerUser,
    });
    const shared = deps.distribution?.(this.#registry) ?? {
      coordinator: new LocalTurnCoordinator(),
      events: new LocalEventBus(this.#registry),
    };
    this.#coordinator = shared.coordinator;
    this.#events = shared.events;
    this.#turnDeps = {
      db: deps.db,
      logger: deps.logger.child({ module: 'chat' }),
      metrics: deps.metrics,
      sink: this.#events,
      modelProvider: deps.modelProvider,
      usage: deps.usage,
      tools: deps.tools,
      instructions: deps.instructions,
      countTokens: deps.countTokens,
      contextWindow: deps.contextWindow,
      classifyError: deps.classifyError,
      hooks: deps.hooks,
      summarize: deps.summarize,
      pace: new StreamPace(),
      ...(deps.pauses ? { pauses: deps.pauses } : {}),
    };
  }

  get closing(): boolean {
    return this.#closing;
  }

  /** Adds a socket unless a connection limit is reached. */
  addConnection(conn: ChatConnection): AddResult {
    return this.#registry.add(conn);
  }

  removeConnection(conn: ChatConnection): void {
    this.#registry.remove(conn);
  }

  /** For /health: open connections and sessions with at least one. */
  connectionCounts(): { connections: number; sessions: number } {
    return this.#registry.counts();
  }

  /** Closes this server's connections of one user (a user just disabled or deleted). */
  closeConnectionsOf(userId: string, code: number, reason: string): void {
    for (const conn of this.#registry.all()) if (conn.userId === userId) conn.close(code, reason);
  }

  /** True while a turn of the session runs (here or on another server). */
  isRunning(sessionUuid: string): boolean {
    return this.#coordinator.isRunning(sessionUuid);
  }

  /** Sessions of `userId` with a turn started on this server and not yet ended. */
  localTurnSessionsOf(userId: string): string[] {
    return [...this.#localTurns].filter(([, t]) => t.userId === userId).map(([sessionUuid]) => sessionUuid);
  }

  /** Resolves when the session has no running turn, or after `timeoutMs`. */
  whenIdle(sessionUuid: string, timeoutMs: number): Promise<void> {
    return this.#coordinator.whenIdle(sessionUuid, timeoutMs);
  }

  /**
   * Starts a turn (interrupting the session's running one first). Resolves with the turn's finish
   * reason when it has ended; callers on a socket do not await it.
   */
  async startTurn(input: StartTurnInput): Promise<FinishReason | undefined> {
    let finish: FinishReason | undefined;
    const turnId = `turn_${randomUUID().replaceAll('-', '').slice(0, 16)}`;
    const uncount = this.#countLocalTurn(input.session);
    try {
      await this.#coordinator.start(
        input.session.id,
        async (token) => {
          finish = await runTurn(this.#turnDeps, {
            sessionUuid: input.session.id,
            sessionId: input.session.session_id,
            userId: input.session.user_id,
            turnId,
            contents: input.frame.type === 'message' ? input.frame.messages.map((m) => m.content) : [],
            branch: input.branch ?? FOLLOW,
            ...(input.attachments ? { attachments: input.attachments } : {}),
            ...(input.frame.model ? { model: input.frame.model } : {}),
            ...(input.frame.reasoning_effort ? { reasoningEffort: input.frame.reasoning_effort } : {}),
            token,
            requestId: input.requestId,
          });
        },
        turnId,
      );
    } finally {
      uncount();
    }
    return finish;
  }

  /**
   * Goes on with a paused turn whose calls are all decided, as the session's only turn (same turn
   * id). `claim` runs inside the turn's slot and returns undefined when someone else went on first
   * (or a new message ended the turn): nothing is sent then.
   */
  async continueTurn(session: Pick<SessionRow, 'id' | 'session_id' | 'user_id'>, turnId: string, claim: () => Promise<TurnResume | undefined>): Promise<FinishReason | undefined> {
    // Left for another server (or this one after its restart): the sweeper takes decided turns up.
    if (this.#closing) return undefined;
    let finish: FinishReason | undefined;
    const uncount = this.#countLocalTurn(session);
    try {
      await this.#coordinator.start(
        session.id,
        async (token) => {
          // Replaced (a new message ends the paused turn itself) or shutting down: leave the claim.
          if (token.cancelled) return;
          const resume = await claim();
          if (!resume) return;
          const requestId = `approval-${turnId}`;
          const req = { sessionUuid: session.id, sessionId: session.session_id, userId: session.user_id, turnId, contents: [], token, requestId, resume };
          finish = await runTurn(this.#turnDeps, req);
        },
        turnId,
      );
    } finally {
      uncount();
    }
    return finish;
  }

  /** Sends an event to the session's connections on every server (an approval decided outside a turn). */
  publish(sessionUuid: string, event: ServerEvent): void {
    this.#events.publish(sessionUuid, event);
  }

  /** Counts a turn of the session as running here until the returned function is called. */
  #countLocalTurn(session: Pick<SessionRow, 'id' | 'user_id'>): () => void {
    const counted = this.#localTurns.get(session.id) ?? { userId: session.user_id, count: 0 };
    counted.count += 1;
    this.#localTurns.set(session.id, counted);
    return () => {
      counted.count -= 1;
      if (counted.count === 0) this.#localTurns.delete(session.id);
    };
  }

  /** Interrupts the session's running turn; false when none runs. */
  interrupt(sessionUuid: string, reason: CancelReason = new UserInterrupt()): boolean {
    return this.#coordinator.interrupt(sessionUuid, reason);
  }

  /** `resume`: the session's events of one turn after `after_seq`. */
  replay(sessionUuid: string, frame: ResumeFrame): Promise<ServerEvent[] | undefined> {
    return this.#events.replay(sessionUuid, frame.turn_id, frame.after_seq);
  }

  /** Shutdown: server_shutdown to everyone, interrupt turns, wait for partials, close with 1001. */
  async shutdown(waitMs = SHUTDOWN_WAIT_MS): Promise<void> {
    if (this.#closing) return;
    this.#closing = true;
    for (const conn of this.#registry.all()) {
      conn.send(JSON.stringify({ type: 'server_shutdown', session_id: conn.sessionId, message: 'The server is shutting down.' }));
    }
    await this.#coordinator.shutdown(waitMs);
    for (const conn of this.#registry.all()) conn.close(1001, 'Server shutting down');
    await this.#events.close();
  }
}
