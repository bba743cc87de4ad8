/**
 * The offline model: an @openai/agents `Model` that needs no network. It streams its
 * answer word by word with a small real delay (abortable by the request's signal, so `/long` can
 * be interrupted), calls tools on `/tool` and `/python`, and reports token usage counted with
 * gpt-tokenizer. What it says is decided by `planOfflineReply`; this file owns timing and the
 * event shapes, which mirror OpenAIResponsesModel: normalized events plus Responses-style raw
 * `model` events, so a consumer written against the real model sees the same stream.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  Usage,
  type Model,
  type ModelProvider,
  type ModelRequest,
  type ModelResponse,
  type StreamEvent,
  type protocol,
} from '@openai/agents';
import { loadEncoding } from '../context/encodings.js';
import { inputText, planOfflineReply, type OfflinePlan } from './offline-reply.js';

/** Pause between streamed words: slow enough to watch and to interrupt, fast enough to try. */
export const OFFLINE_WORD_DELAY_MS = 15;
/** Tool arguments are streamed in this many pieces, like a real model's argument deltas. */
const ARGUMENT_CHUNKS = 3;

export interface OfflineModelOptions {
  /** Delay between streamed words; default {@link OFFLINE_WORD_DELAY_MS}. 0 streams at once. */
  wordDelayMs?: number;
}

/** Token count that treats special-token text such as `<|endoftext|>` as plain text. */
export function countTextTokens(text: string): number {
  return text === '' ? 0 : loadEncoding('o200k_base').countTokens(text, { disallowedSpecial: new Set() });
}

function toolNames(request: ModelRequest): string[] {
  return request.tools.flatMap((t) => (t.type === 'function' ? [t.name] : []));
}

function usageFor(request: ModelRequest, plan: OfflinePlan): { inputTokens: number; outputTokens: number; totalTokens: number } {
  // Like a real model, the instructions and the tool definitions count as input.
  const tools = request.tools.length > 0 ? JSON.stringify(request.tools) : '';
  const inputTokens = countTextTokens(`${request.systemInstructions ?? ''}\n${inputText(request.input)}\n${tools}`);
  const outputTokens = countTextTokens(plan.kind === 'text' ? plan.text : `${plan.name}${plan.arguments}`);
  return { inputTokens, outputTokens, totalTokens: inputTokens + outputTokens };
}

function outputItem(plan: OfflinePlan, id: string): protocol.OutputModelItem {
  if (plan.kind === 'tool_call') {
    return { type: 'function_call', id: `fc_${id}`, callId: `call_${id}`, name: plan.name, arguments: plan.arguments, status: 'completed' };
  }
  return { type: 'message', id: `msg_${id}`, role: 'assistant', status: 'completed', content: [{ type: 'output_text', text: plan.text }] };
}

/** The same item in the Responses API's wire shape, for the raw `model` events. */
function wireItem(plan: OfflinePlan, id: string): Record<string, unknown> {
  if (plan.kind === 'tool_call') {
    return { id: `fc_${id}`, type: 'function_call', call_id: `call_${id}`, name: plan.name, arguments: plan.arguments, status: 'completed' };
  }
  return { id: `msg_${id}`, type: 'message', role: 'assistant', status: 'completed', content: [{ type: 'output_text', text: plan.text, annotations: [] }] };
}

function pieces(text: string, count: number): string[] {
  const size = Math.max(1, Math.ceil(text.length / count));
  const out: string[] = [];
  for (let i = 0; i < text.length; i += size) out.push(text.slice(i, i + size));
  return out;
}

/** A `Model` that answers from {@link planOfflineReply}; one instance serves every session. */
export class OfflineModel implements Model {
  readonly #wordDelayMs: number;

  constructor(options: OfflineModelOptions = {}) {
    this.#wordDelayMs = options.wordDelayMs ?? OFFLINE_WORD_DELAY_MS;
  }

  getResponse(request: ModelRequest): Promise<ModelResponse> {
    // Thrown inside the executor, an abort rejects the promise.
    return new Promise((resolve) => {
      request.signal?.throwIfAborted();
      const plan = planOfflineReply({ systemInstructions: request.systemInstructions, input: request.input, toolNames: toolNames(request) });
      const id = randomUUID().replaceAll('-', '').slice(0, 16);
      resolve({ usage: new Usage({ requests: 1, ...usageFor(request, plan) }), output: [outputItem(plan, id)], responseId: `resp_${id}` });
    });
  }

  async *getStreamedResponse(request: ModelRequest): AsyncIterable<StreamEvent> {
    const signal = request.signal;
    signal?.throwIfAborted();
    const plan = planOfflineReply({ systemInstructions: request.systemInstructions, input: request.input, toolNames: toolNames(request) });
    const id = randomUUID().replaceAll('-', '').slice(0, 16);
    const item = outputItem(plan, id);
    const raw = (event: Record<string, unknown>): StreamEvent => ({ type: 'model', event });
    const response = { id: `resp_${id}`, object: 'response', model: 'offline', status: 'in_progress', output: [] };

    yield { type: 'response_started', providerData: { type: 'response.created', response } };
    yield raw({ type: 'response.created', response });
    if (plan.kind === 'text') {
      const itemId = `msg_${id}`;
      yield raw({ type: 'response.output_item.added', output_index: 0, item: { id: itemId, type: 'message', role: 'assistant', status: 'in_progress', content: [] } });
      const words = plan.text.match(/\s*\S+/g) ?? [plan.text];
      for (const [i, delta] of words.entries()) {
        if (i > 0) await this.#pause(signal);
        yield { type: 'output_text_delta', delta, itemId };
        yield raw({ type: 'response.output_text.delta', item_id: itemId, output_index: 0, content_index: 0, delta });
      }
      yield raw({ type: 'response.output_text.done', item_id: itemId, output_index: 0, content_index: 0, text: plan.text });
    } else {
      const itemId = `fc_${id}`;
      const callId = `call_${id}`;
      yield raw({ type: 'response.output_item.added', output_index: 0, item: { id: itemId, type: 'function_call', call_id: callId, name: plan.name, arguments: '', status: 'in_progress' } });
      for (const delta of pieces(plan.arguments, ARGUMENT_CHUNKS)) {
        await this.#pause(signal);
        yield raw({ type: 'response.function_call_arguments.delta', item_id: itemId, output_index: 0, delta });
      }
      yield raw({ type: 'response.function_call_arguments.done', item_id: itemId, output_index: 0, name: plan.name, arguments: plan.arguments });
    }
    yield raw({ type: 'response.output_item.done', output_index: 0, item: wireItem(plan, id) });
    signal?.throwIfAborted();
    const usage = usageFor(request, plan);
    yield raw({
      type: 'response.completed',
      response: { ...response, status: 'completed', output: [wireItem(plan, id)], usage: { input_tokens: usage.inputTokens, output_tokens: usage.outputTokens, total_tokens: usage.totalTokens } },
    });
    yield { type: 'response_done', response: { id: `resp_${id}`, usage: { requests: 1, ...usage }, output: [item] } };
  }

  /** Waits between words; rejects at once with an AbortError when the request is aborted. */
  async #pause(signal: AbortSignal | undefined): Promise<void> {
    if (this.#wordDelayMs <= 0) return signal?.throwIfAborted();
    await sleep(this.#wordDelayMs, undefined, signal ? { signal } : undefined);
  }
}

/** A `ModelProvider` whose every model name resolves to the one offline model. */
export class OfflineModelProvider implements ModelProvider {
  readonly #model: OfflineModel;

  constructor(options: OfflineModelOptions = {}) {
    this.#model = new OfflineModel(options);
  }

  getModel(): Model {
    return this.#model;
  }
}
