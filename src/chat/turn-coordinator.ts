/**
 * ONE TURN PER SESSION. `TurnCoordinator` is the seam: a new turn interrupts the running
 * one, waits for it to end (its partial saved), then runs. `LocalTurnCoordinator` does this inside
 * one process; a PostgreSQL advisory-lock implementation can replace it for several servers.
 */
import { type CancelReason, CancellationToken, NewMessageInterrupt, ShutdownInterrupt } from './cancellation.js';

/** How long a new turn waits for the previous one to finish saving before it goes ahead anyway. */
export const PREVIOUS_TURN_WAIT_MS = 30_000;

export interface TurnCoordinator {
  /**
   * Runs `turn` as the session's only turn. A running or waiting turn of the session is cancelled
   * with `NewMessageInterrupt` and awaited first. Resolves when `turn` has ended; never rejects.
   * When the coordinator is shutting down, `turn` still runs (so the user's words are saved) with
   * a token already cancelled by `ShutdownInterrupt`.
   */
  start(sessionUuid: string, turn: (token: CancellationToken) => Promise<unknown>, turnId?: string): Promise<void>;
  /** Cancels the session's running and waiting turns; false when none. */
  interrupt(sessionUuid: string, reason: CancelReason): boolean;
  isRunning(sessionUuid: string): boolean;
  /** Resolves when the session has no running or waiting turn, or after `timeoutMs`. */
  whenIdle(sessionUuid: string, timeoutMs: number): Promise<void>;
  /** Cancels every turn with `ShutdownInterrupt`, refuses none later, waits up to `timeoutMs` for all to end. */
  shutdown(timeoutMs: number): Promise<void>;
}

interface SessionTurns {
  tail: Promise<void>;
  /** The session's running and waiting turns: token → turn id (when the caller named one). */
  tokens: Map<CancellationToken, string | undefined>;
}

function bounded(p: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([p.then(() => undefined), new Promise<void>((r) => (timer = setTimeout(r, ms).unref()))]).finally(() =>
    clearTimeout(timer),
  );
}

export class LocalTurnCoordinator implements TurnCoordinator {
  #sessions = new Map<string, SessionTurns>();
  #closing = false;

  constructor(private readonly previousTurnWaitMs = PREVIOUS_TURN_WAIT_MS) {}

  isRunning(sessionUuid: string): boolean {
    return this.#sessions.has(sessionUuid);
  }

  async whenIdle(sessionUuid: string, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (let entry = this.#sessions.get(sessionUuid); entry; entry = this.#sessions.get(sessionUuid)) {
      const left = deadline - Date.now();
      if (left <= 0) return;
      await bounded(entry.tail, left);
      // Let the cleanup of the finished tail run before looking again.
      await Promise.resolve();
    }
  }

  start(sessionUuid: string, turn: (token: CancellationToken) => Promise<unknown>, turnId?: string): Promise<void> {
    let entry = this.#sessions.get(sessionUuid);
    if (!entry) {
      entry = { tail: Promise.resolve(), tokens: new Map() };
      this.#sessions.set(sessionUuid, entry);
    }
    for (const t of entry.tokens.keys()) t.cancel(new NewMessageInterrupt());
    const token = new CancellationToken();
    if (this.#closing) token.cancel(new ShutdownInterrupt());
    entry.tokens.set(token, turnId);
    const previous = entry.tail;
    const own = entry;
    const run = (async () => {
      await bounded(previous, this.previousTurnWaitMs);
      try {
        await turn(token);
      } catch {
        // runTurn never throws; a custom turn function that does must not wedge the session.
      } finally {
        own.tokens.delete(token);
      }
    })();
    own.tail = run;
    void run.then(() => {
      if (own.tail === run && this.#sessions.get(sessionUuid) === own) this.#sessions.delete(sessionUuid);
    });
    return run;
  }

  interrupt(sessionUuid: string, reason: CancelReason): boolean {
    const entry = this.#sessions.get(sessionUuid);
    if (!entry) return false;
    let any = false;
    for (const t of entry.tokens.keys()) any = t.cancel(reason) || any;
    return any;
  }

  /**
   * Cancels one turn of the session, running or waiting, named by the id it was started with;
   * false when no such turn is here. A request aimed at a turn that has ended never reaches the
   * session's next one.
   */
  interruptTurn(sessionUuid: string, turnId: string, reason: CancelReason): boolean {
    const entry = this.#sessions.get(sessionUuid);
    if (!entry) return false;
    let any = false;
    for (const [t, id] of entry.tokens) if (id === turnId) any = t.cancel(reason) || any;
    return any;
  }

  async shutdown(timeoutMs: number): Promise<void> {
    this.#closing = true;
    const tails: Promise<void>[] = [];
    for (const entry of this.#sessions.values()) {
      for (const t of entry.tokens.keys()) t.cancel(new ShutdownInterrupt());
      tails.push(entry.tail);
    }
    await bounded(Promise.all(tails), timeoutMs);
  }
}
