/**
 * A streamed Responses API answer as the SDK's stream events, the way the SDK's own adapter
 * reports it: `response_started` on `response.created`, `output_text_delta` per text delta (those of
 * one item read in one network chunk joined into one), every
 * other event as a raw `model` event (Pulp reads tool calls and reasoning from them), and
 * `response_done` with the output items and usage on `response.completed`. A `failed` or
 * `incomplete` response ends the stream with the SDK's `ModelBehaviorError`; an `error` event with
 * a `ProviderHttpError` carrying the provider's code and words.
 */
import type { StreamEvent } from '@openai/agents';
import { JoinedText } from './joined-text.js';
import { ProviderHttpError } from './provider-http-error.js';
import { asRecord, type Json } from './provider-data.js';
import { outputItems, responsesUsage, unsuccessfulError, unsuccessfulState } from './responses-response.js';
import type { AnswerContext, StreamTranslator } from './sse-model.js';
import type { SseMessage } from './sse-transport.js';

/** Names the raw events' origin, as the SDK does (`RunRawModelStreamEvent.source`). */
export const RESPONSES_RAW_SOURCE = Object.freeze({ rawModelEventSource: 'openai-responses' });

const TERMINAL = new Set(['response.completed', 'response.failed', 'response.incomplete', 'response.error', 'error']);

interface Event {
  type?: string;
  delta?: string;
  item_id?: string;
  response?: Json;
  error?: unknown;
}

/** An event, or the error that ends the stream. */
function readEvent(message: SseMessage): Event | Error {
  let event: Event;
  try {
    event = JSON.parse(message.data) as Event;
  } catch {
    return new SyntaxError('Error reading response: malformed server-sent event JSON.');
  }
  // The `openai` client's rule: an `error` event, or any event carrying `error`, fails the call.
  return message.event === 'error' || event.error ? new ProviderHttpError(undefined, event.error ?? event) : event;
}

/**
 * One streamed answer's translator: `read` takes each network chunk's events as they come; the
 * answer ends with the body (`done` stays false), and `end` sends what is still held.
 */
export class ResponsesStreamTranslator implements StreamTranslator {
  readonly #context: AnswerContext;
  /** Text deltas of one item read in one batch, sent as one event. */
  readonly #joined = new JoinedText();

  constructor(context: AnswerContext) {
    this.#context = context;
  }

  get done(): boolean {
    return false;
  }

  read(messages: readonly SseMessage[], out: StreamEvent[]): void {
    const joined = this.#joined;
    for (const message of messages) {
      const event = readEvent(message);
      if (event instanceof Error) {
        // The text before a failure was said: it is sent before the failure ends the stream.
        joined.flush(out);
        throw event;
      }
      const type = event.type;
      if (type === 'response.output_text.delta') {
        joined.add(event.delta ?? '', typeof event.item_id === 'string' ? event.item_id : undefined, out);
        continue;
      }
      joined.flush(out);
      if (type === 'response.created') out.push({ type: 'response_started', providerData: { ...event } });
      const failure = type !== undefined && TERMINAL.has(type) ? this.#terminal(event, type, out) : undefined;
      // A text delta's `output_text_delta` says all of it (see isTextOnlyChunk for Chat Completions).
      out.push({ type: 'model', event, providerData: RESPONSES_RAW_SOURCE });
      if (failure) throw failure;
    }
    joined.flush(out);
  }

  end(out: StreamEvent[]): void {
    this.#joined.flush(out);
  }

  /** A terminal event: `response_done` into `out` for a completed answer, or the failure of another. */
  #terminal(event: Event, type: string, out: StreamEvent[]): Error | undefined {
    const response = asRecord(event.response);
    const terminal = unsuccessfulState(response, type);
    if (terminal) return unsuccessfulError(terminal);
    if (!response) return undefined;
    const { response: _response, ...eventData } = event;
    const { output, usage, id, ...responseData } = response;
    out.push({
      type: 'response_done',
      response: {
        id: String(id),
        ...(this.#context.requestId ? { requestId: this.#context.requestId } : {}),
        output: outputItems(output),
        usage: responsesUsage(usage),
        providerData: responseData,
      },
      providerData: eventData,
    });
    return undefined;
  }
}
