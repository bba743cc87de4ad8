/**
 * One `Model` for every wire format: the format builds the request body and reads the answer, the
 * transport carries it. A new provider API (Anthropic Messages, Gemini) is a new `WireFormat`.
 * Given a turn's `TextTap`, a streamed answer's text goes to the tap and only its other events to
 * the Runner.
 */
import type { Model, ModelRequest, ModelResponse, StreamEvent } from '@openai/agents';
import type { TextTap, TextTappable } from '../text-tap.js';
import type { Operation } from './endpoint.js';
import { AnswerEvents } from './answer-events.js';
import type { SseMessage, SseTransport } from './sse-transport.js';

export interface WireFormat {
  /** The endpoint operation the format posts to. */
  readonly operation: Operation;
  /** The JSON text of the body for `request` on `model`; `stream` asks for server-sent events. */
  body(request: ModelRequest, model: string, stream: boolean): string;
  /** The translator of one streamed answer's server-sent events into the SDK's stream events. */
  translator(context: AnswerContext): StreamTranslator;
  /** The SDK response for one non-streamed answer. */
  response(body: unknown, context: AnswerContext): ModelResponse;
}

/**
 * One streamed answer's server-sent events as the SDK stream events: `response_started`,
 * `output_text_delta`, the raw `model` events, and one `response_done` with the final output items
 * and usage. Synchronous: it is handed each network chunk's events as they arrive.
 */
export interface StreamTranslator {
  /** The events of one network chunk's server-sent events into `out`, in order; throws what ends the answer (after putting the events before it in `out`). */
  read(messages: readonly SseMessage[], out: StreamEvent[]): void;
  /** The answer's last event was read: what follows in the body is not read. */
  readonly done: boolean;
  /** The closing events into `out`, once the answer is done or its body ended; throws for an answer that cannot end so. */
  end(out: StreamEvent[]): void;
}

export interface AnswerContext {
  model: string;
  request: ModelRequest;
  /** The server's `x-request-id`, when it sent one. */
  requestId: string | undefined;
}

export class SseModel implements Model, TextTappable {
  readonly #transport: SseTransport;
  readonly #format: WireFormat;
  readonly #model: string;
  readonly #tap: TextTap | undefined;

  constructor(transport: SseTransport, format: WireFormat, model: string, tap?: TextTap) {
    this.#transport = transport;
    this.#format = format;
    this.#model = model;
    this.#tap = tap;
  }

  withTextTap(tap: TextTap): Model {
    return new SseModel(this.#transport, this.#format, this.#model, tap);
  }

  async getResponse(request: ModelRequest): Promise<ModelResponse> {
    const body = this.#format.body(request, this.#model, false);
    const answer = await this.#transport.json(this.#format.operation, this.#model, body, request.signal);
    return this.#format.response(answer.body, { model: this.#model, request, requestId: answer.requestId });
  }

  async *getStreamedResponse(request: ModelRequest): AsyncIterable<StreamEvent> {
    const body = this.#format.body(request, this.#model, true);
    const answer = await this.#transport.open(this.#format.operation, this.#model, body, true, request.signal);
    const requestId = answer.headers.get('x-request-id') ?? undefined;
    const events = new AnswerEvents(this.#format.translator({ model: this.#model, request, requestId }), this.#tap);
    const reading = this.#transport.read(answer, request.signal, events);
    try {
      yield* events.events(reading);
    } finally {
      // Also when the consumer stops before the first event: the request must not stay open.
      reading.stop();
    }
  }
}
