/**
 * One `Model` for every wire format: the format builds the request body and reads the answer, the
 * transport carries it. A new provider API (Anthropic Messages, Gemini) is a new `WireFormat`.
 * Given a turn's `TextTap`, a streamed answer's text goes to the tap and only its other events to
 * the Runner.
 */
import type { Model, ModelRequest, ModelResponse, StreamEvent } from '@openai/agents';
import type { TextTap, TextTappable } from '../text-tap.js';
import type { Operation } from './endpoint.js';
import type { SseMessage, SseTransport } from './sse-transport.js';

export interface WireFormat {
  /** The endpoint operation the format posts to. */
  readonly operation: Operation;
  /** The JSON body for `request` on `model`; `stream` asks for server-sent events. */
  body(request: ModelRequest, model: string, stream: boolean): Record<string, unknown>;
  /**
   * The SDK stream events for one streamed answer (its server-sent events in batches, in order):
   * `response_started`, `output_text_delta`, the raw `model` events, and one `response_done` with
   * the final output items and usage.
   */
  stream(events: AsyncIterable<readonly SseMessage[]>, context: AnswerContext): AsyncIterable<StreamEvent>;
  /** The SDK response for one non-streamed answer. */
  response(body: unknown, context: AnswerContext): ModelResponse;
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
    try {
      const requestId = answer.headers.get('x-request-id') ?? undefined;
      const events = this.#format.stream(this.#transport.events(answer, request.signal), { model: this.#model, request, requestId });
      const tap = this.#tap;
      if (!tap) {
        yield* events;
        return;
      }
      for await (const event of events) {
        if (event.type === 'output_text_delta') {
          if (event.delta !== '') tap.text(event.delta);
          continue;
        }
        tap.sent(event);
        yield event;
      }
    } finally {
      // Also when the consumer stops before the first event: the request must not stay open.
      answer.release();
    }
  }
}
