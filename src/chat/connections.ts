/**
 * The local connection registry: which sockets belong to which session, the connection limits
 * (WS_MAX_CONNECTIONS, WS_MAX_CONNECTIONS_PER_SESSION, WS_MAX_CONNECTIONS_PER_USER), counts for
 * /health, and the `EventSink`
 * that sends a session's events to every one of its connections (serialized once per event).
 */
import type { EventSink, ServerEvent } from './events.js';

/** What the registry needs from a socket. */
export interface ChatConnection {
  readonly sessionUuid: string;
  /** Public id, put on events this connection gets outside a turn. */
  readonly sessionId: string;
  /** The user the socket authenticated as (`users.id`): for the per-user limit, and to close a disabled or logged-out user's sockets. */
  readonly userId: string;
  /** Sends one text frame (already JSON). Must not throw. */
  send(data: string): void;
  /**
   * Sends an event whose JSON is `data`; a connection that resumes a turn uses the event's
   * `turn_id`/`seq` to hold back or drop what it already has. Default: `send(data)`.
   */
  deliver?(event: ServerEvent, data: string): void;
  close(code: number, reason: string): void;
}

export interface ConnectionLimits {
  maxConnections: number;
  maxConnectionsPerSession: number;
  maxConnectionsPerUser: number;
}

/** `user_limit`: this user already holds their share; `limit`: the server or the session is full. */
export type AddResult = 'ok' | 'limit' | 'user_limit';

export class ConnectionRegistry implements EventSink {
  #bySession = new Map<string, Set<ChatConnection>>();
  #total = 0;
  #byUser = new Map<string, number>();

  constructor(private readonly limits: ConnectionLimits) {}

  /** Adds `conn` unless a limit is reached; the user's own limit is checked first. */
  add(conn: ChatConnection): AddResult {
    const set = this.#bySession.get(conn.sessionUuid);
    if (set?.has(conn)) return 'ok';
    const mine = this.#byUser.get(conn.userId) ?? 0;
    if (mine >= this.limits.maxConnectionsPerUser) return 'user_limit';
    if (this.#total >= this.limits.maxConnections) return 'limit';
    if (set && set.size >= this.limits.maxConnectionsPerSession) return 'limit';
    if (set) set.add(conn);
    else this.#bySession.set(conn.sessionUuid, new Set([conn]));
    this.#byUser.set(conn.userId, mine + 1);
    this.#total += 1;
    return 'ok';
  }

  remove(conn: ChatConnection): void {
    const set = this.#bySession.get(conn.sessionUuid);
    if (!set?.delete(conn)) return;
    this.#total -= 1;
    if (set.size === 0) this.#bySession.delete(conn.sessionUuid);
    const left = (this.#byUser.get(conn.userId) ?? 1) - 1;
    if (left > 0) this.#byUser.set(conn.userId, left);
    else this.#byUser.delete(conn.userId);
  }

  /** Open connections of one user on this server. */
  countForUser(userId: string): number {
    return this.#byUser.get(userId) ?? 0;
  }

  publish(sessionUuid: string, event: ServerEvent): void {
    const set = this.#bySession.get(sessionUuid);
    if (!set) return;
    this.#deliver(set, event, JSON.stringify(event));
  }

  /** Like `publish`, with the event's JSON already made (events that came from another server). */
  deliver(sessionUuid: string, event: ServerEvent, data: string): void {
    const set = this.#bySession.get(sessionUuid);
    if (set) this.#deliver(set, event, data);
  }

  #deliver(set: Set<ChatConnection>, event: ServerEvent, data: string): void {
    for (const conn of set) {
      if (conn.deliver) conn.deliver(event, data);
      else conn.send(data);
    }
  }

  /** Connections of one session. */
  countFor(sessionUuid: string): number {
    return this.#bySession.get(sessionUuid)?.size ?? 0;
  }

  /** For /health: open connections and sessions with at least one. */
  counts(): { connections: number; sessions: number } {
    return { connections: this.#total, sessions: this.#bySession.size };
  }

  all(): ChatConnection[] {
    return [...this.#bySession.values()].flatMap((s) => [...s]);
  }
}
