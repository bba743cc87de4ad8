/**
 * Which turn events a connection sends, and when, around a `resume`: live events are held back
 * (those of any turn until the first frame, then those of the turn being resumed), the replayed
 * ones go first, the held ones follow in order, and a seq the connection already sent is dropped.
 * No timers and no socket: the connection decides when to release, the gate what to send.
 */
import type { ServerEvent } from './events.js';

/** Turns whose last sent seq a connection remembers (to drop what a resume already sent). */
export const REMEMBERED_TURNS = 8;

interface Hold {
  /** The turn held back; undefined: every turn (before the first frame). */
  turnId: string | undefined;
  events: Array<[ServerEvent, string]>;
}

/** A resume in progress, as `begin` returns it and `finish` takes it. */
export type ResumeHold = Readonly<Hold>;

export class ResumeGate {
  #hold: Hold | undefined = { turnId: undefined, events: [] };
  #lastSeq = new Map<string, number>();

  constructor(private readonly send: (data: string) => void) {}

  /** True until the first frame (or the resume window) ends the first hold. */
  get awaitingFirstFrame(): boolean {
    return this.#hold !== undefined && this.#hold.turnId === undefined;
  }

  /** A live turn event (`data` is its JSON): held, dropped as already sent, or sent. */
  deliver(event: ServerEvent, turnId: string, seq: number, data: string): void {
    const hold = this.#hold;
    if (hold && (hold.turnId === undefined || hold.turnId === turnId)) {
      hold.events.push([event, data]);
      return;
    }
    this.#sendOnce(turnId, seq, data);
  }

  /** Stops holding back; what was held goes out in order, minus what the connection has. */
  release(): void {
    const hold = this.#hold;
    this.#hold = undefined;
    for (const [event, data] of hold?.events ?? []) this.#sendOnce(event.turn_id ?? '', event.seq ?? 0, data);
  }

  /** A resume of `turnId` starts: its live events wait for the replay; those held for other turns go now. */
  begin(turnId: string): ResumeHold {
    const earlier = this.#hold?.events ?? [];
    const own: Hold = { turnId, events: [] };
    this.#hold = own;
    for (const [event, data] of earlier) this.deliver(event, event.turn_id ?? '', event.seq ?? 0, data);
    return own;
  }

  /** The missed events of the resumed turn: those after `afterSeq` the connection lacks go out. */
  replayed(turnId: string, afterSeq: number, events: readonly ServerEvent[]): void {
    this.#lastSeq.set(turnId, Math.max(this.#lastSeq.get(turnId) ?? 0, afterSeq));
    for (const event of events) this.#sendOnce(turnId, event.seq ?? 0, JSON.stringify(event));
  }

  /** The resume is over (replayed or failed): its live events go out, unless a later resume holds the gate. */
  finish(hold: ResumeHold): void {
    if (this.#hold === hold) this.release();
  }

  #sendOnce(turnId: string, seq: number, data: string): void {
    const last = this.#lastSeq.get(turnId);
    if (last !== undefined && seq <= last) return;
    if (last === undefined && this.#lastSeq.size >= REMEMBERED_TURNS) {
      const oldest = this.#lastSeq.keys().next().value;
      if (oldest !== undefined) this.#lastSeq.delete(oldest);
    }
    this.#lastSeq.set(turnId, seq);
    this.send(data);
  }
}
