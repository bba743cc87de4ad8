/**
 * The turn's end of a `TextTap` (src/llm/text-tap.ts): text that comes straight from the model is
 * delivered in its place among the events that go through the Runner. Text that follows an event
 * the turn has not handled yet waits for it; text with nothing in flight before it goes at once,
 * which is every piece of an answer but those read in the same network chunk as its start or a
 * tool call.
 */
import type { StreamEvent } from '@openai/agents';
import type { TextTap } from '../llm/text-tap.js';

export class TextGate implements TextTap {
  /** Events sent to the Runner and not handled yet, and the text after each, in order. */
  #pending: Array<StreamEvent | string> = [];
  #closed = false;

  constructor(private readonly deliver: (text: string) => void) {}

  sent(event: StreamEvent): void {
    if (!this.#closed) this.#pending.push(event);
  }

  text(delta: string): void {
    if (this.#closed) return;
    if (this.#pending.length === 0) this.deliver(delta);
    else this.#pending.push(delta);
  }

  /**
   * The turn is about to handle `event` (a raw model event from the Runner). Events the Runner left
   * out before it are passed over: the text that followed them goes now, before `event`. An event
   * the gate never saw (another model's) changes nothing.
   */
  reached(event: unknown): void {
    const at = this.#pending.indexOf(event as StreamEvent);
    if (at <= 0) return;
    const text = this.#pending.slice(0, at).filter((held) => typeof held === 'string').join('');
    this.#pending = this.#pending.slice(at);
    if (text !== '') this.deliver(text);
  }

  /** The turn has handled `event`: the text up to the next event still in flight goes now. */
  handled(event: unknown): void {
    if (this.#pending[0] !== event) return;
    let text = '';
    let next = 1;
    for (; next < this.#pending.length; next++) {
      const held = this.#pending[next];
      if (typeof held !== 'string') break;
      text += held;
    }
    this.#pending = next === this.#pending.length ? [] : this.#pending.slice(next);
    if (text !== '') this.deliver(text);
  }

  /** The turn stopped reading: text from now on, and text still waiting, is dropped. */
  close(): void {
    this.#closed = true;
    this.#pending = [];
  }
}
