/**
 * The text pieces of one answer item read in one network chunk, held to go to the Runner as one
 * `output_text_delta`. Each event costs several async steps through the Runner; a busy server reads
 * a stream late and finds several chunks waiting, so joining them makes a delta cheaper exactly when
 * the server is behind. Pulp joins deltas into frames anyway: the text a user sees is unchanged.
 *
 * A translator holds each text piece with `add`, and sends what is held (`yield* flush()`) before
 * any other event, before a failure ends the stream (the text before it was said), and at the end
 * of each batch of events, so nothing waits for the next network chunk.
 */
import type { StreamEvent } from '@openai/agents';

const NONE: readonly StreamEvent[] = [];

export class JoinedText {
  #held = false;
  #delta = '';
  #itemId: string | undefined;

  /** Holds `delta` of item `itemId`; returns the held text of another item, to send first. */
  add(delta: string, itemId: string | undefined): readonly StreamEvent[] {
    const other = this.#held && itemId !== this.#itemId ? this.flush() : NONE;
    this.#held = true;
    this.#delta += delta;
    this.#itemId = itemId;
    return other;
  }

  /** The held text as one event (none when nothing is held); nothing is held after. */
  flush(): readonly StreamEvent[] {
    if (!this.#held) return NONE;
    const delta = this.#delta;
    const itemId = this.#itemId;
    this.#held = false;
    this.#delta = '';
    return [itemId === undefined ? { type: 'output_text_delta', delta } : { type: 'output_text_delta', delta, itemId }];
  }
}
