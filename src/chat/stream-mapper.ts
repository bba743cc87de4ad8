/**
 * Turns the @openai/agents stream of one run into protocol events, display rows and new
 * context items. Synchronous and allocation-light on the delta path: a delta is one emitter call
 * and two string appends (the display row's text and the context's), never a database write or a
 * JSON round trip.
 *
 * Tool calls are detected from the raw provider events (Responses `response.output_item.added`,
 * Chat Completions `delta.tool_calls`), with the SDK's `tool_called` item as a fallback for models
 * that send neither (the offline model).
 */
import type { AgentInputItem, RunStreamEvent } from '@openai/agents';
import type { TurnMessageWriter } from './message-store.js';
import type { TurnEmitter } from './turn-emitter.js';

export interface ResponseUsage {
  inputTokens: number;
  outputTokens: number;
}

interface CallState {
  name: string;
  args: string;
  executing: boolean;
  completed: boolean;
}

type Json = Record<string, unknown>;

function asRecord(v: unknown): Json | undefined {
  return typeof v === 'object' && v !== null ? (v as Json) : undefined;
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

/** Tool arguments as an object, encoded once; a model that sends broken JSON keeps its text. */
export function parseArguments(text: string): Record<string, unknown> {
  if (text.trim() === '') return {};
  try {
    const parsed: unknown = JSON.parse(text);
    return asRecord(parsed) && !Array.isArray(parsed) ? (parsed as Json) : { value: parsed };
  } catch {
    return { _raw: text };
  }
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
  /** Items the run produced, in order, not yet handed to `takeContextItems`. */
  #items: AgentInputItem[] = [];
  #calls = new Map<string, CallState>();
  /** Responses API: output item id → call id. */
  #itemToCall = new Map<string, string>();
  /** Chat Completions: tool call index → call id, per response. */
  #indexToCall = new Map<number, string>();
  #firstDeltaAt: number | undefined;
  #usage: ResponseUsage | undefined;
  #responses = 0;
  /** Tokens of the items added since the last reported usage (tool outputs), for estimates. */
  #itemsSinceUsage: AgentInputItem[] = [];
  /** Text streamed that no SDK item holds yet, one entry per segment (a tool call ends one). */
  #responseText: string[] = [];
  #segmentOpen = false;

  constructor(
    private readonly emitter: TurnEmitter,
    private readonly writer: TurnMessageWriter,
    private readonly onUsage: (usage: ResponseUsage) => void,
    private readonly onToolRound: () => void,
  ) {}

  get firstDeltaAt(): number | undefined {
    return this.#firstDeltaAt;
  }

  /** The last provider-reported usage of this turn, if any response completed. */
  get lastUsage(): ResponseUsage | undefined {
    return this.#usage;
  }

  get responses(): number {
    return this.#responses;
  }

  get itemsSinceUsage(): readonly AgentInputItem[] {
    return this.#itemsSinceUsage;
  }

  /**
   * Text streamed since the last message item, segments joined by a blank line. The SDK adds a
   * response's message items only after the response is processed, so an interrupted or failed
   * turn saves this text into the context itself — including text a tool call closed on screen.
   */
  get responseText(): string {
    return this.#responseText.join('\n\n');
  }

  /** Hands over the items produced since the last call (for `llm_context`). */
  takeContextItems(): AgentInputItem[] {
    const items = this.#items;
    this.#items = [];
    return items;
  }

  handle(event: RunStreamEvent): void {
    if (event.type === 'raw_model_stream_event') this.#raw(event.data as unknown as Json);
    else if (event.type === 'run_item_stream_event') this.#item(event.name, event.item as unknown as Json);
  }

  /** Started or detected calls that never completed, for the synthetic completions of an interrupt. */
  openCalls(): Array<{ callId: string; name: string; args: Record<string, unknown>; executing: boolean }> {
    const open: Array<{ callId: string; name: string; args: Record<string, unknown>; executing: boolean }> = [];
    for (const [callId, s] of this.#calls) {
      if (!s.completed) open.push({ callId, name: s.name, args: parseArguments(s.args), executing: s.executing });
    }
    return open;
  }

  markCompleted(callId: string): void {
    const s = this.#calls.get(callId);
    if (s) s.completed = true;
  }

  #text(delta: string): void {
    if (delta === '') return;
    this.#firstDeltaAt ??= performance.now();
    if (this.#segmentOpen) this.#responseText[this.#responseText.length - 1] += delta;
    else {
      this.#responseText.push(delta);
      this.#segmentOpen = true;
    }
    this.writer.appendText(delta);
    this.emitter.emit({ type: 'assistant_delta', content: delta });
  }

  #reasoning(delta: string): void {
    if (delta === '') return;
    this.emitter.emit({ type: 'reasoning_delta', content: delta });
  }

  #detect(callId: string, name: string): void {
    if (this.#calls.has(callId)) return;
    // Text before a tool call sorts before it: the segment ends here.
    this.writer.closeText();
    this.#segmentOpen = false;
    this.#calls.set(callId, { name, args: '', executing: false, completed: false });
    this.emitter.emit({ type: 'function_detected', tool_call_id: callId, tool_name: name });
  }

  #argsDelta(callId: string | undefined, delta: string): void {
    if (!callId || delta === '') return;
    const s = this.#calls.get(callId);
    if (s) s.args += delta;
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
    this.#responses += 1;
    // A response's text stays unsaid until its message item arrives: the SDK may fail between the
    // two (a tool the agent does not have), and then only this text keeps what the model said.
    this.#segmentOpen = false;
    this.#itemToCall.clear();
    this.#indexToCall.clear();
    const input = typeof usage?.inputTokens === 'number' ? usage.inputTokens : undefined;
    const output = typeof usage?.outputTokens === 'number' ? usage.outputTokens : undefined;
    if (input === undefined || output === undefined) return;
    this.#usage = { inputTokens: input, outputTokens: output };
    this.#itemsSinceUsage = [];
    this.onUsage(this.#usage);
  }

  #item(name: string, item: Json): void {
    const raw = asRecord(item.rawItem) as AgentInputItem | undefined;
    // Pushed first, so a context flush triggered by this item includes it.
    if (raw) this.#items.push(raw);
    switch (name) {
      case 'message_output_created':
        this.writer.closeText();
        this.#responseText = [];
        this.#segmentOpen = false;
        break;
      case 'tool_called':
        this.#toolCalled(asRecord(raw));
        break;
      case 'tool_output':
        this.#toolOutput(asRecord(raw), item.output);
        break;
      case 'reasoning_item_created':
        break;
      default:
        // Handoffs, approvals, hosted tools: not offered by Pulp's agents; kept in context only.
        break;
    }
  }

  #toolCalled(raw: Json | undefined): void {
    if (raw?.type !== 'function_call') return;
    const callId = str(raw.callId);
    if (!callId) return;
    const name = str(raw.name) ?? 'unknown';
    this.#detect(callId, name);
    const state = this.#calls.get(callId);
    if (!state || state.executing) return;
    state.executing = true;
    const args = parseArguments(str(raw.arguments) ?? state.args);
    this.writer.toolStarted(callId, name, args);
    this.emitter.emit({ type: 'function_executing', tool_call_id: callId, tool_name: name, tool_arguments: args });
  }

  #toolOutput(raw: Json | undefined, output: unknown): void {
    const callId = str(raw?.callId);
    if (!callId) return;
    const state = this.#calls.get(callId);
    if (state?.completed) return;
    const name = state?.name ?? str(raw?.name) ?? 'unknown';
    const result = toolOutputText(output ?? raw?.output);
    const success = toolSucceeded(result);
    if (state) state.completed = true;
    this.writer.toolCompleted(callId, result, success);
    this.emitter.emit({ type: 'function_completed', tool_call_id: callId, tool_name: name, tool_result: result, tool_success: success });
    if (raw) this.#itemsSinceUsage.push(raw as AgentInputItem);
    this.onToolRound();
  }
}
