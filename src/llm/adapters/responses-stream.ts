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
import type { AnswerContext } from './sse-model.js';
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

export async function* translateResponsesStream(events: AsyncIterable<readonly SseMessage[]>, context: AnswerContext): AsyncIterable<StreamEvent> {
  // Text deltas of one item read in one batch, sent as one event.
  const joined = new JoinedText();
  for await (const messages of events) {
    for (const message of messages) {
      const event = readEvent(message);
      if (event instanceof Error) {
        // The text before a failure was said: it is sent before the failure ends the stream.
        yield* joined.flush();
        throw event;
      }
      const type = event.type;
      if (type === 'response.output_text.delta') {
        yield* joined.add(event.delta ?? '', typeof event.item_id === 'string' ? event.item_id : undefined);
        continue;
      }
      yield* joined.flush();
      if (type === 'response.created') {
        yield { type: 'response_started', providerData: { ...event } };
      }
      let failure: Error | undefined;
      let done: StreamEvent | undefined;
      if (type !== undefined && TERMINAL.has(type)) {
        const response = asRecord(event.response);
        const terminal = unsuccessfulState(response, type);
        if (terminal) failure = unsuccessfulError(terminal);
        else if (response) {
          const { response: _response, ...eventData } = event;
          const { output, usage, id, ...responseData } = response;
          done = {
            type: 'response_done',
            response: {
              id: String(id),
              ...(context.requestId ? { requestId: context.requestId } : {}),
              output: outputItems(output),
              usage: responsesUsage(usage),
              providerData: responseData,
            },
            providerData: eventData,
          };
        }
      }
      if (done) yield done;
      // A text delta's `output_text_delta` says all of it (see isTextOnlyChunk for Chat Completions).
      yield { type: 'model', event, providerData: RESPONSES_RAW_SOURCE };
      if (failure) throw failure;
    }
    yield* joined.flush();
  }
  yield* joined.flush();
}
