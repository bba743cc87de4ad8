/**
 * Which of the user's messages the server has not taken yet. A `message` frame is taken when its
 * turn starts (`assistant_start`: the user's words are saved) and answered once the model says
 * anything. A message fails when the connection drops before its turn starts, when the server
 * refuses the frame, or when its turn ends in an error before any answer (a provider refusal or
 * rate limit): its bubble then says why and offers Retry.
 */
import type { UserBubble } from './user-bubble.js';

interface Failed {
  bubble: UserBubble;
  /** The newest stored `seq` the page knew when the message was sent. */
  afterSeq: number;
}

export class PendingSends {
  /** Sent, its turn not started yet; oldest first (the server takes messages in order). */
  #waiting: Array<{ bubble: UserBubble; afterSeq: number }> = [];
  /** Its turn started, and the model has said nothing yet. */
  #started: { bubble: UserBubble; afterSeq: number } | null = null;
  #failed: Failed[] = [];

  /** The message in `bubble` went out; `afterSeq` is the newest stored seq shown at that time. */
  track(bubble: UserBubble, afterSeq: number): void {
    this.#failed = this.#failed.filter((f) => f.bubble !== bubble);
    bubble.sending();
    this.#waiting.push({ bubble, afterSeq });
  }

  /** A turn started: the oldest waiting message was taken. */
  started(): void {
    const next = this.#waiting.shift();
    next?.bubble.sent();
    this.#started = next ?? null;
  }

  /** The model said something: the started message was answered. */
  answered(): void {
    this.#started = null;
  }

  /**
   * The server refused a message: a frame error (`inTurn` false) is about the oldest waiting one;
   * a turn's error is about the message that started it, unless the model had already answered.
   */
  refused(reason: string, inTurn: boolean): void {
    const pending = inTurn ? this.#started : this.#waiting.shift();
    if (inTurn) this.#started = null;
    // A turn's error comes after its start: the message itself was stored.
    if (pending && inTurn) pending.bubble.stored = true;
    if (pending) this.#fail(pending, reason);
  }

  /** The connection dropped: every message whose turn had not started did not get there. */
  dropped(reason: string): void {
    for (const pending of this.#waiting.splice(0)) this.#fail(pending, reason);
  }

  /**
   * After the history was shown again (a reconnect reloads it): failed messages the server did
   * store (a user row with the same text, newer than the message) are forgotten; the bubbles of
   * the others are returned, to be put back below the history with their text and Retry.
   */
  unsent(storedUserRows: ReadonlyArray<{ seq: number; content: string | null }>): UserBubble[] {
    this.#failed = this.#failed.filter((f) => !storedUserRows.some((m) => m.seq > f.afterSeq && m.content === f.bubble.text));
    return this.#failed.map((f) => f.bubble);
  }

  /** Some message failed and still shows its Retry. */
  get hasFailed(): boolean {
    return this.#failed.length > 0;
  }

  /** Another chat was opened. */
  clear(): void {
    this.#waiting = [];
    this.#started = null;
    this.#failed = [];
  }

  #fail(pending: { bubble: UserBubble; afterSeq: number }, reason: string): void {
    pending.bubble.failed(reason);
    this.#failed.push(pending);
  }
}
