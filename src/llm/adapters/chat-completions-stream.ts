/**
 * A streamed Chat Completions answer as the SDK's stream events, the way the SDK's own adapter
 * reports it: `response_started` on the first chunk, every chunk that says more than a piece of
 * text as a raw `model` event (Pulp reads tool calls and reasoning from them), `output_text_delta`
 * per text delta, and at the end one `response_done` with the output items (reasoning, message with
 * text and refusal, function calls) and the usage. The delta path is one comparison with the shape of
 * the answer's first text chunk (`TextChunkShape`; a JSON parse when it differs) and two string appends.
 * Text-only chunks that arrived in one network chunk go as one `output_text_delta` (`JoinedText`;
 * at a thousand paced streams the p99 delivery delay fell by a third, docs/benchmarks.md).
 */
import type { StreamEvent } from '@openai/agents';
import type { AnswerContext, StreamTranslator } from './sse-model.js';
import type { SseMessage } from './sse-transport.js';
import { JoinedText } from './joined-text.js';
import { TextChunkShape } from './text-chunk-shape.js';
import { ProviderHttpError } from './provider-http-error.js';
import { asRecord, type Json } from './provider-data.js';
import { chatOutput, chatUsage, CONTENT_FILTER_REFUSAL, FAKE_ID, truncatedError, type ChatCall, type ChatOutputState } from './chat-completions-response.js';

/** Names the raw events' origin, as the SDK does (`RunRawModelStreamEvent.source`). */
export const CHAT_RAW_SOURCE = Object.freeze({ rawModelEventSource: 'openai-chat-completions' });

interface Choice {
  index?: number;
  finish_reason?: string | null;
  delta?: {
    content?: string | null;
    reasoning?: unknown;
    refusal?: string | null;
    annotations?: unknown;
    tool_calls?: Array<{ index: number; id?: string; type?: string; function?: { name?: string; arguments?: string } }>;
  };
}
interface Chunk {
  id?: string;
  choices?: Choice[];
  usage?: Json | null;
  error?: unknown;
}

/**
 * Whether a chunk only continues the answer's text: one choice, no finish reason, no usage, and a
 * delta with nothing set but `content` (and `role`). Its `output_text_delta` says all of it, so no
 * raw `model` event repeats it: every event costs a few promise hops through the Runner and its
 * stream, and text chunks are nearly all of an answer.
 */
function isTextOnlyChunk(chunk: Chunk): boolean {
  const choices = chunk.choices;
  if (chunk.usage || !choices || choices.length !== 1) return false;
  const choice = choices[0];
  if (!choice || choice.finish_reason || !choice.delta?.content) return false;
  const delta = choice.delta as Record<string, unknown>;
  for (const key in delta) if (key !== 'content' && key !== 'role' && delta[key] !== null && delta[key] !== undefined) return false;
  return true;
}

/** A chunk, or the error that ends the stream: unreadable JSON, or an error the provider sent in the stream. */
function readChunk(data: string): Chunk | Error {
  let chunk: Chunk;
  try {
    chunk = JSON.parse(data) as Chunk;
  } catch {
    return new SyntaxError('Error reading response: malformed server-sent event JSON.');
  }
  return chunk.error ? new ProviderHttpError(undefined, chunk.error) : chunk;
}

/** The text of a text-only chunk of the first choice; `undefined` for any other chunk. */
function textOfChunkJson(data: string): string | undefined {
  const chunk = readChunk(data);
  if (chunk instanceof Error || !isTextOnlyChunk(chunk)) return undefined;
  const choice = chunk.choices?.[0];
  return choice?.index === 0 ? (choice.delta?.content ?? undefined) : undefined;
}

/** URL citations with their four fields; anything else is dropped, as the SDK does. */
function urlCitations(raw: unknown): Json[] {
  if (!Array.isArray(raw)) return [];
  const out: Json[] = [];
  for (const a of raw) {
    const c = asRecord(asRecord(a)?.url_citation);
    if (asRecord(a)?.type !== 'url_citation' || !c) continue;
    const { start_index, end_index, url, title } = c;
    if (typeof start_index === 'number' && typeof end_index === 'number' && typeof url === 'string' && typeof title === 'string') {
      out.push({ type: 'url_citation', url_citation: { start_index, end_index, url, title } });
    }
  }
  return out;
}

/**
 * One streamed answer's translator: `read` takes each network chunk's events as they come, `done`
 * says the answer's last event (`[DONE]`) was read, `end` gives the closing `response_done`.
 */
export class ChatStreamTranslator implements StreamTranslator {
  readonly #context: AnswerContext;
  readonly #state: ChatOutputState = { responseId: undefined, text: undefined, annotations: [], refusal: undefined, reasoning: '', calls: new Map(), finishReason: null };
  #messageItemId: string | undefined;
  #usage: Json | undefined;
  #started = false;
  #done = false;
  /** The text of consecutive text-only chunks of one batch, not sent yet. */
  readonly #joined = new JoinedText();
  /** The shape of this answer's text-only chunks, learned from its first one. */
  readonly #shape = new TextChunkShape();

  constructor(context: AnswerContext) {
    this.#context = context;
  }

  get done(): boolean {
    return this.#done;
  }

  read(messages: readonly SseMessage[], out: StreamEvent[]): void {
    const state = this.#state;
    const joined = this.#joined;
    for (const message of messages) {
      if (message.data === '[DONE]') {
        this.#done = true;
        break;
      }
      const shaped = this.#shape.textOf(message.data);
      if (shaped !== undefined) {
        joined.add(shaped, this.#messageItemId, out);
        state.text += shaped;
        continue;
      }
      const read = readChunk(message.data);
      if (read instanceof Error) {
        // The text before a failure was said: it is sent before the failure ends the stream.
        joined.flush(out);
        throw read;
      }
      const chunk = read;
      if (chunk.usage) this.#usage = chunk.usage;
      if (chunk.id && state.responseId === undefined) state.responseId = chunk.id;
      if (!this.#started) {
        this.#started = true;
        out.push({ type: 'response_started', providerData: { ...chunk } });
      }
      const textOnly = isTextOnlyChunk(chunk);
      if (!textOnly) {
        joined.flush(out);
        out.push({ type: 'model', event: chunk, providerData: CHAT_RAW_SOURCE });
      }
      const choices = chunk.choices;
      if (!choices || choices.length === 0) continue;
      // Only the first choice is read; Pulp never asks for more than one.
      const choice = choices.find((c) => c.index === 0);
      if (!choice) continue;
      if (choice.finish_reason) state.finishReason = choice.finish_reason;
      const delta = choice.delta;
      if (!delta) continue;
      const content = delta.content;
      if (content) {
        if (state.text === undefined) {
          state.text = '';
          this.#messageItemId = state.responseId;
        }
        joined.add(content, this.#messageItemId, out);
        if (!textOnly) joined.flush(out);
        state.text += content;
        if (textOnly && this.#shape.learning) this.#shape.learn(message.data, content, textOfChunkJson);
      }
      if (state.text !== undefined && delta.annotations !== undefined) {
        for (const a of urlCitations(delta.annotations)) if (!state.annotations.some((b) => JSON.stringify(b) === JSON.stringify(a))) state.annotations.push(a);
      }
      if (typeof delta.reasoning === 'string') state.reasoning += delta.reasoning;
      if (delta.refusal) state.refusal = (state.refusal ?? '') + delta.refusal;
      if (delta.tool_calls) readToolCalls(state, delta.tool_calls);
    }
    joined.flush(out);
  }

  end(out: StreamEvent[]): void {
    const state = this.#state;
    this.#joined.flush(out);
    if (state.finishReason === 'content_filter' && !state.text && !state.refusal && state.calls.size === 0) state.refusal = CONTENT_FILTER_REFUSAL;
    if (state.finishReason === 'length' && !state.text && !state.refusal && !state.reasoning && ![...state.calls.values()].some((c) => !c.ignored)) {
      throw truncatedError();
    }
    out.push({
      type: 'response_done',
      response: {
        id: state.responseId ?? FAKE_ID,
        ...(this.#context.requestId ? { requestId: this.#context.requestId } : {}),
        usage: chatUsage(this.#usage),
        output: chatOutput(state, this.#messageItemId),
      },
    });
  }
}

/** A chunk's tool call pieces, joined into the calls by index. */
function readToolCalls(state: ChatOutputState, toolCalls: NonNullable<NonNullable<Choice['delta']>['tool_calls']>): void {
  for (const tc of toolCalls) {
    // Custom (free-form) tool calls are not offered by Pulp; like the SDK, they are skipped.
    if (tc.type === 'custom' || state.calls.get(tc.index)?.ignored) {
      state.calls.set(tc.index, { ignored: true, callId: '', name: '', arguments: '' });
      continue;
    }
    let call: ChatCall | undefined = state.calls.get(tc.index);
    if (!call) {
      call = { ignored: false, callId: '', name: '', arguments: '' };
      state.calls.set(tc.index, call);
    }
    call.arguments += tc.function?.arguments ?? '';
    call.name += tc.function?.name ?? '';
    if (tc.id && !call.callId) call.callId = tc.id;
  }
}
