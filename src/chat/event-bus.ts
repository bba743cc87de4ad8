/**
 * Where a session's events go, and where a reconnecting client reads a turn's events again
 * (`resume`). `LocalEventBus` is the one-server bus: the connection registry plus a bounded
 * in-memory log of recent turns. The cluster bus (src/cluster) keeps the log in PostgreSQL.
 */
import type { ConnectionRegistry } from './connections.js';
import type { EventSink, ServerEvent } from './events.js';

export interface ChatEventBus extends EventSink {
  /**
   * The events of `turnId` with `seq > afterSeq`, in order. Undefined when the turn does not belong
   * to the session, is unknown, or its events from `afterSeq + 1` on are no longer kept.
   */
  replay(sessionUuid: string, turnId: string, afterSeq: number): Promise<ServerEvent[] | undefined>;
  close(): Promise<void>;
}

/** How long a finished turn's events stay readable by `resume`. */
export const RESUME_GRACE_MS = 120_000;
/** Events kept per turn; a longer turn keeps its newest ones. */
export const MAX_EVENTS_PER_TURN = 20_000;
/** Turns kept at once (running and recently finished); the oldest finished ones go first. */
export const MAX_TURNS_KEPT = 2_000;

interface TurnLog {
  sessionUuid: string;
  events: ServerEvent[];
  /** Seq of `events[0]`. */
  firstSeq: number;
  endedAt: number | undefined;
}

/** A bounded log of recent turns' events, for one process. */
export class MemoryEventLog {
  #turns = new Map<string, TurnLog>();
  /**
   * Finished turns in the order they ended, with the end each entry saw: pruning reads from the
   * front and stops at the first turn still in its grace period, so a turn start costs the turns it
   * forgets, not every turn kept. A turn that ends again (a paused turn going on) is queued again;
   * its earlier entry no longer matches and is dropped when reached.
   */
  #ended: Array<{ turnId: string; endedAt: number }> = [];
  #endedHead = 0;

  constructor(
    private readonly graceMs = RESUME_GRACE_MS,
    private readonly maxEventsPerTurn = MAX_EVENTS_PER_TURN,
    private readonly maxTurns = MAX_TURNS_KEPT,
    private readonly now: () => number = Date.now,
  ) {}

  record(sessionUuid: string, event: ServerEvent): void {
    const turnId = event.turn_id;
    if (turnId === undefined || event.seq === undefined) return;
    let log = this.#turns.get(turnId);
    if (!log) {
      this.#prune();
      log = { sessionUuid, events: [], firstSeq: event.seq, endedAt: undefined };
      this.#turns.set(turnId, log);
    }
    log.events.push(event);
    if (log.events.length > this.maxEventsPerTurn) {
      log.events.shift();
      log.firstSeq += 1;
    }
    if (event.type === 'assistant_end') {
      log.endedAt = this.now();
      this.#ended.push({ turnId, endedAt: log.endedAt });
    }
  }

  read(sessionUuid: string, turnId: string, afterSeq: number): ServerEvent[] | undefined {
    const log = this.#turns.get(turnId);
    if (!log || log.sessionUuid !== sessionUuid) return undefined;
    if (afterSeq + 1 < log.firstSeq) return undefined;
    return log.events.slice(Math.max(0, afterSeq + 1 - log.firstSeq));
  }

  #prune(): void {
    const now = this.now();
    // Finished turns past their grace period, then (still full) the oldest finished ones.
    while (this.#endedHead < this.#ended.length) {
      const { turnId, endedAt } = this.#ended[this.#endedHead] as { turnId: string; endedAt: number };
      const current = this.#turns.get(turnId)?.endedAt === endedAt;
      if (current && now - endedAt <= this.graceMs && this.#turns.size < this.maxTurns) break;
      if (current) this.#turns.delete(turnId);
      this.#endedHead += 1;
    }
    if (this.#endedHead > 1_024 && this.#endedHead * 2 > this.#ended.length) {
      this.#ended = this.#ended.slice(this.#endedHead);
      this.#endedHead = 0;
    }
    // Still full of running turns (a runaway): the oldest of all.
    for (const id of this.#turns.keys()) {
      if (this.#turns.size < this.maxTurns) return;
      this.#turns.delete(id);
    }
  }
}

/** One server: events go straight to the local connections and into a memory log. */
export class LocalEventBus implements ChatEventBus {
  constructor(
    private readonly registry: ConnectionRegistry,
    readonly log = new MemoryEventLog(),
  ) {}

  publish(sessionUuid: string, event: ServerEvent): void {
    this.log.record(sessionUuid, event);
    this.registry.publish(sessionUuid, event);
  }

  replay(sessionUuid: string, turnId: string, afterSeq: number): Promise<ServerEvent[] | undefined> {
    return Promise.resolve(this.log.read(sessionUuid, turnId, afterSeq));
  }

  async close(): Promise<void> {}
}
