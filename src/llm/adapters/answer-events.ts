/**
 * A streamed answer between the transport and the Runner. The transport hands it each network
 * chunk's events as they arrive (`AnswerReader`); it translates them at once, gives the text to the
 * turn's `TextTap` then and there, and queues only the other events for the Runner, which takes them
 * through `events()`. An answer's text so costs no promise on its way: each async step of the
 * Runner's loop, and each of an async generator, costs more than the rest of a delta's reading.
 */
import type { StreamEvent } from '@openai/agents';
import type { TextTap } from '../text-tap.js';
import type { StreamTranslator } from './sse-model.js';
import type { AnswerReader, Reading, SseMessage } from './sse-transport.js';

/** Events queued for the Runner above which the body is held back, and below which it goes on. */
const HOLD_AT = 256;
const GO_ON_AT = 64;

export class AnswerEvents implements AnswerReader {
  readonly #translator: StreamTranslator;
  readonly #tap: TextTap | undefined;
  /** Events for the Runner, from `#head` on. */
  #queue: StreamEvent[] = [];
  #head = 0;
  #failure: { error: unknown } | undefined;
  #finished = false;
  #wake: (() => void) | undefined;
  #reading: Reading | undefined;
  #held = false;
  /** Scratch list the translator writes one batch's events into. */
  readonly #out: StreamEvent[] = [];

  constructor(translator: StreamTranslator, tap: TextTap | undefined) {
    this.#translator = translator;
    this.#tap = tap;
  }

  batch(messages: readonly SseMessage[]): void {
    if (this.#finished || this.#failure) return;
    try {
      this.#translator.read(messages, this.#out);
    } catch (err) {
      // The events read before the failure (the text before it) go first.
      this.#deliver();
      this.fail(err);
      return;
    }
    this.#deliver();
    if (this.#translator.done) this.end();
  }

  end(): void {
    if (this.#finished || this.#failure) return;
    try {
      this.#translator.end(this.#out);
    } catch (err) {
      this.#deliver();
      this.fail(err);
      return;
    }
    this.#deliver();
    this.#finished = true;
    this.#wakeUp();
  }

  fail(err: unknown): void {
    if (this.#finished || this.#failure) return;
    this.#failure = { error: err };
    this.#wakeUp();
  }

  /** The events for the Runner, in order; then the failure, if reading failed. `reading` is held back while the Runner is behind. */
  events(reading: Reading): AsyncGenerator<StreamEvent> {
    this.#reading = reading;
    return this.#take(reading);
  }

  async *#take(reading: Reading): AsyncGenerator<StreamEvent> {
    for (;;) {
      if (this.#head < this.#queue.length) {
        const event = this.#queue[this.#head] as StreamEvent;
        this.#head += 1;
        if (this.#held && this.#queue.length - this.#head <= GO_ON_AT) {
          this.#held = false;
          reading.resume();
        }
        yield event;
        continue;
      }
      this.#queue = [];
      this.#head = 0;
      if (this.#failure) throw this.#failure.error;
      if (this.#finished) return;
      await new Promise<void>((resolve) => (this.#wake = resolve));
    }
  }

  /**
   * The translator's events of one batch: text to the tap, the rest queued for the Runner. A tap that
   * throws ends the answer with its error, which the Runner gets as the stream's failure: this runs
   * in the body's event handler, where a throw would reach no one.
   */
  #deliver(): void {
    const out = this.#out;
    if (out.length === 0) return;
    const tap = this.#tap;
    try {
      for (const event of out) {
        if (tap && event.type === 'output_text_delta') {
          if (event.delta !== '') tap.text(event.delta);
          continue;
        }
        tap?.sent(event);
        this.#queue.push(event);
      }
    } catch (err) {
      this.fail(err);
      return;
    } finally {
      out.length = 0;
    }
    if (!this.#held && this.#reading && this.#queue.length - this.#head >= HOLD_AT) {
      this.#held = true;
      this.#reading.pause();
    }
    this.#wakeUp();
  }

  #wakeUp(): void {
    const wake = this.#wake;
    if (!wake || (this.#head === this.#queue.length && !this.#finished && !this.#failure)) return;
    this.#wake = undefined;
    wake();
  }
}
