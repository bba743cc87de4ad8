/**
 * The text pieces of one answer item read in one network chunk, held to go to the Runner as one
 * `output_text_delta`. Each event costs several async steps through the Runner; a busy server reads
 * a stream late and finds several chunks waiting, so joining them makes a delta cheaper exactly when
 * the server is behind. Pulp joins deltas into frames anyway: the text a user sees is unchanged.
 *
 * A translator holds each text piece with `add`, and sends what is held (`flush`) before any other
 * event, before a failure ends the stream (the text before it was said), and at the end of each
 * batch of events, so nothing waits for the next network chunk.
 */
import type { StreamEvent } from '@openai/agents';

export class JoinedText {
  #held = false;
  #delta = '';
  #itemId: string | undefined;

  /** Holds `delta` of item `itemId`; the held text of another item goes to `out` first. */
  add(delta: string, itemId: string | undefined, out: StreamEvent[]): void {
    if (this.#held && itemId !== this.#itemId) this.flush(out);
    this.#held = true;
    this.#delta += delta;
    this.#itemId = itemId;
  }

  /** The held text as one event into `out` (none when nothing is held); nothing is held after. */
  flush(out: StreamEvent[]): void {
    if (!this.#held) return;
    const delta = this.#delta;
    const itemId = this.#itemId;
    this.#held = false;
    this.#delta = '';
    out.push(itemId === undefined ? { type: 'output_text_delta', delta } : { type: 'output_text_delta', delta, itemId });
  }
}
