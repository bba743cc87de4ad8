/**
 * Translates the @openai/agents stream of one run into calls on the turn's recorder and protocol
 * events; it keeps no turn state beyond what translation needs (which provider item or index is
 * which tool call). Synchronous and allocation-light on the delta path: a delta is one recorder
 * call and one emitter call, never a database write or a JSON round trip.
 *
 * Tool calls are detected from the raw provider events (Responses `response.output_item.added`,
 * Chat Completions `delta.tool_calls`), with the SDK's `tool_called` item as a fallback for models
 * that send neither (the offline model).
 */
import type { AgentInputItem, RunStreamEvent } from '@openai/agents';
import type { TextTap } from '../llm/text-tap.js';
import { TextGate } from './text-gate.js';
import type { TurnEmitter } from './turn-emitter.js';
import type { ResponseUsage, TurnRecorder } from './turn-recorder.js';

type Json = Record<string, unknown>;

function asRecord(v: unknown): Json | undefined {
  return typeof v === 'object' && v !== null ? (v as Json) : undefined;
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

/** The SDK gives tool output as a string or as structured content; the wire wants a string. */
export function toolOutputText(output: unknown): string {
  if (typeof output === 'string') return output;
  const rec = asRecord(output);
  if (rec && rec.type === 'text' && typeof rec.text === 'string') return rec.text;
  return JSON.stringify(output) ?? '';
}

const SDK_TOOL_ERROR_PREFIX = 'An error occurred while';

/**
 * A tool's success as the card shows it: the SDK's error text, or a JSON result with
 * `success: false` or a top-level `error`, count as failures.
 */
export function toolSucceeded(result: string): boolean {
  if (result.startsWith(SDK_TOOL_ERROR_PREFIX)) return false;
  if (!result.startsWith('{')) return true;
  try {
    const parsed = asRecord(JSON.parse(result));
    if (!parsed) return true;
    return parsed.success !== false && (parsed.error === undefined || parsed.error === null);
  } catch {
    return true;
  }
}

export class StreamMapper {
  /** Responses API: output item id → call id. */
  #itemToCall = new Map<string, string>();
  /** Chat Completions: tool call index → call id, per response. */
  #indexToCall = new Map<number, string>();
  /** Text the model sends past the Runner, put back in its place among the Runner's events. */
  readonly #gate = new TextGate((delta) => this.#text(delta));

  constructor(
    private readonly recorder: TurnRecorder,
    private readonly emitter: TurnEmitter,
    private readonly onUsage: (usage: ResponseUsage) => void,
  ) {}

  /** Where a model that can (src/llm/text-tap.ts) sends its text instead of through the Runner. */
  get textTap(): TextTap {
    return this.#gate;
  }

  handle(event: RunStreamEvent): void {
    if (event.type === 'raw_model_stream_event') {
      this.#gate.reached(event.data);
      this.#raw(asRecord(event.data) ?? {});
      this.#gate.handled(event.data);
    } else if (event.type === 'run_item_stream_event') {
      this.#item(event.name, asRecord(event.item) ?? {});
    }
  }

  /** The turn stopped reading the run: text still coming past the Runner is dropped, as the Runner's events are. */
  close(): void {
    this.#gate.close();
  }

  #text(delta: string): void {
    if (delta === '') return;
    this.recorder.text(delta);
    this.emitter.emit({ type: 'assistant_delta', content: delta });
  }

  #reasoning(delta: string): void {
    if (delta === '') return;
    this.recorder.reasoning(delta);
    this.emitter.emit({ type: 'reasoning_delta', content: delta });
  }

  #detect(callId: string, name: string): void {
    if (this.recorder.toolDetected(callId, name)) this.emitter.emit({ type: 'function_detected', tool_call_id: callId, tool_name: name });
  }

  #argsDelta(callId: string | undefined, delta: string): void {
    if (!callId || delta === '') return;
    this.recorder.toolArguments(callId, delta);
    this.emitter.emit({ type: 'function_call_arguments_delta', tool_call_id: callId, delta });
  }

  #raw(data: Json): void {
    switch (data.type) {
      case 'output_text_delta':
        this.#text(str(data.delta) ?? '');
        return;
      case 'response_started':
        this.#indexToCall.clear();
        return;
      case 'response_done':
        this.#responseDone(asRecord(asRecord(data.response)?.usage));
        return;
      case 'model': {
        const ev = asRecord(data.event);
        if (ev) this.#providerEvent(ev);
        return;
      }
      default:
        return;
    }
  }

  #providerEvent(ev: Json): void {
    const type = str(ev.type);
    if (type === undefined) {
      if (ev.object === 'chat.completion.chunk') this.#chatChunk(ev);
      return;
    }
    if (type === 'response.reasoning_summary_text.delta' || type === 'response.reasoning_text.delta') {
      this.#reasoning(str(ev.delta) ?? '');
    } else if (type === 'response.output_item.added') {
      const item = asRecord(ev.item);
      const callId = str(item?.call_id);
      if (item?.type === 'function_call' && callId) {
        const id = str(item.id);
        if (id) this.#itemToCall.set(id, callId);
        this.#detect(callId, str(item.name) ?? 'unknown');
      }
    } else if (type === 'response.function_call_arguments.delta') {
      const itemId = str(ev.item_id);
      this.#argsDelta(itemId ? this.#itemToCall.get(itemId) : undefined, str(ev.delta) ?? '');
    }
  }

  #chatChunk(chunk: Json): void {
    const choices = Array.isArray(chunk.choices) ? chunk.choices : [];
    const choice = asRecord(choices[0]);
    const delta = asRecord(choice?.delta);
    if (!delta) return;
    const reasoning = str(delta.reasoning_content) ?? str(delta.reasoning);
    if (reasoning) this.#reasoning(reasoning);
    if (!Array.isArray(delta.tool_calls)) return;
    for (const raw of delta.tool_calls) {
      const tc = asRecord(raw);
      if (!tc) continue;
      const index = typeof tc.index === 'number' ? tc.index : 0;
      const fn = asRecord(tc.function);
      const id = str(tc.id);
      if (id && !this.#indexToCall.has(index)) {
        this.#indexToCall.set(index, id);
        this.#detect(id, str(fn?.name) ?? 'unknown');
      }
      this.#argsDelta(this.#indexToCall.get(index), str(fn?.arguments) ?? '');
    }
  }

  #responseDone(usage: Json | undefined): void {
    this.#itemToCall.clear();
    this.#indexToCall.clear();
    // The answer is complete: its last text would otherwise wait out the coalescing window (or the
    // turn's end, after its final save) though nothing more can join it.
    this.emitter.flush();
    const input = typeof usage?.inputTokens === 'number' ? usage.inputTokens : undefined;
    const output = typeof usage?.outputTokens === 'number' ? usage.outputTokens : undefined;
    const counted = input === undefined || output === undefined ? undefined : { inputTokens: input, outputTokens: output };
    this.recorder.responseDone(counted);
    if (counted) this.onUsage(counted);
  }

  #item(name: string, item: Json): void {
    const raw = asRecord(item.rawItem);
    // Recorded first, so the context write a tool output starts includes it.
    // An approval item repeats its tool_called function call: the context keeps that one.
    if (raw && name !== 'tool_approval_requested') this.recorder.item(raw as AgentInputItem);
    if (name === 'message_output_created') this.recorder.messageSaid();
    else if (name === 'tool_called') this.#toolCalled(raw);
    else if (name === 'tool_output') this.#toolOutput(raw, item.output);
    // Reasoning items, handoffs, approvals, hosted tools: kept in the context only.
  }

  #toolCalled(raw: Json | undefined): void {
    if (raw?.type !== 'function_call') return;
    const callId = str(raw.callId);
    if (!callId) return;
    const name = str(raw.name) ?? 'unknown';
    this.#detect(callId, name);
    const args = this.recorder.toolStarted(callId, name, str(raw.arguments));
    if (args) this.emitter.emit({ type: 'function_executing', tool_call_id: callId, tool_name: name, tool_arguments: args });
  }

  #toolOutput(raw: Json | undefined, output: unknown): void {
    const callId = str(raw?.callId);
    if (!callId) return;
    const result = toolOutputText(output ?? raw?.output);
    const success = toolSucceeded(result);
    const name = this.recorder.toolCompleted(callId, str(raw?.name) ?? 'unknown', result, success, raw as AgentInputItem | undefined);
    if (name === undefined) return;
    this.emitter.emit({ type: 'function_completed', tool_call_id: callId, tool_name: name, tool_result: result, tool_success: success });
  }
}
