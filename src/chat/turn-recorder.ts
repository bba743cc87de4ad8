/**
 * One turn's record: its text segments, its tool calls and their states, the context items it
 * produced and the provider's token counts, with one ordered write queue for both `messages` rows
 * and `llm_context` items (so rows and items are saved in the order things happened, and never
 * block the stream). Text is saved at checkpoints, never per delta.
 */
import type { AgentInputItem } from '@openai/agents';
import type { Queryable } from '../db/database.js';
import { SerialQueue } from '../util/serial-queue.js';
import { saveText } from './checkpoint-writer.js';
import { ContextStore } from './context-store.js';
import { toStorableText } from '../util/storable-text.js';
import { insertAfterLeaf } from './row-inserts.js';
import { DONE, RUNNING, STREAMING, type RowFlags } from './row-flags.js';
import type { OpenTurn, TurnEnding } from './turn-end.js';
import { parseArguments } from './tool-arguments.js';

/** How often a streaming assistant text is saved (a crash loses at most 2 s). */
export const CHECKPOINT_INTERVAL_MS = 2_000;

export interface ResponseUsage {
  inputTokens: number;
  outputTokens: number;
}

type RowId = Promise<string | undefined>;

interface Segment {
  text: string;
  /** The reasoning the model gave before and while this text streamed (display only). */
  reasoning: string;
  rowId: RowId | undefined;
  /** `text.length + reasoning.length` at the last save: a checkpoint with nothing new is skipped. */
  savedLength: number;
}

interface Call {
  name: string;
  /** Argument text streamed so far. */
  args: string;
  /** Set when the tool starts (its row is inserted). */
  rowId: RowId | undefined;
  completed: boolean;
}

export class TurnRecorder {
  readonly #queue = new SerialQueue();
  readonly #context: ContextStore;
  #error: Error | undefined;
  #segment: Segment | undefined;
  /** Reasoning streamed while no text segment is open; the next segment (or its own row) takes it. */
  #reasoning = '';
  #timer: NodeJS.Timeout | undefined;
  /** Text no SDK message item holds yet, one entry per segment. */
  #unsaid: string[] = [];
  #unsaidOpen = false;
  #calls = new Map<string, Call>();
  /** SDK items not yet queued for `llm_context`. */
  #pending: AgentInputItem[] = [];
  /** Every context item of the turn, the user's first. */
  #items: AgentInputItem[];
  #sinceUsage: AgentInputItem[] = [];
  #usage: ResponseUsage | undefined;
  #firstTextAt: number | undefined;

  constructor(
    private readonly db: Queryable,
    private readonly sessionUuid: string,
    userItems: readonly AgentInputItem[],
  ) {
    this.#context = new ContextStore(db, sessionUuid);
    this.#items = [...userItems];
  }

  /** When the first text delta came (performance.now()). */
  get firstTextAt(): number | undefined {
    return this.#firstTextAt;
  }

  /** The turn's user items left `llm_context` (a refused turn): they no longer count. */
  forgetUserItems(): void {
    this.#items = [];
  }

  text(delta: string): void {
    if (delta === '') return;
    this.#firstTextAt ??= performance.now();
    if (this.#unsaidOpen) this.#unsaid[this.#unsaid.length - 1] += delta;
    else {
      this.#unsaid.push(delta);
      this.#unsaidOpen = true;
    }
    if (!this.#segment) {
      this.#segment = { text: '', reasoning: this.#reasoning, rowId: undefined, savedLength: -1 };
      this.#reasoning = '';
    }
    this.#segment.text += delta;
    this.#timer ??= setTimeout(() => this.#checkpoint(), CHECKPOINT_INTERVAL_MS).unref();
  }

  /**
   * Reasoning summary text: shown with the answer segment it belongs to, and never part of the
   * model's context (the SDK's own reasoning items are, as before).
   */
  reasoning(delta: string): void {
    if (delta === '') return;
    if (this.#segment) this.#segment.reasoning += delta;
    else this.#reasoning += delta;
  }

  /** A response ended: its text stays unsaid until its message item arrives. */
  responseDone(usage: ResponseUsage | undefined): void {
    this.#unsaidOpen = false;
    if (!usage) return;
    this.#usage = usage;
    this.#sinceUsage = [];
  }

  /** An item the SDK produced, for `llm_context`. */
  item(item: AgentInputItem): void {
    this.#pending.push(item);
    this.#items.push(item);
  }

  /** The SDK's message item arrived: the text it holds is said, and the segment is whole. */
  messageSaid(): void {
    this.#closeSegment(DONE);
    this.#unsaid = [];
    this.#unsaidOpen = false;
  }

  /** A tool call was seen; false when it was known. Text before it sorts before it. */
  toolDetected(callId: string, name: string): boolean {
    if (this.#calls.has(callId)) return false;
    this.#closeSegment(DONE);
    this.#saveLoneReasoning();
    this.#unsaidOpen = false;
    this.#calls.set(callId, { name, args: '', rowId: undefined, completed: false });
    return true;
  }

  toolArguments(callId: string, delta: string): void {
    const call = this.#calls.get(callId);
    if (call) call.args += delta;
  }

  /** The tool starts: its row is inserted. Undefined when it had started (or is unknown). */
  toolStarted(callId: string, name: string, argsText: string | undefined): Record<string, unknown> | undefined {
    const call = this.#calls.get(callId);
    if (!call || call.rowId) return undefined;
    const args = parseArguments(argsText ?? call.args);
    const row = { role: 'tool_call' as const, tool_call_id: callId, tool_name: name, tool_arguments: args, metadata: RUNNING };
    call.rowId = this.#write(async () => (await insertAfterLeaf(this.db, this.sessionUuid, row)).id);
    return args;
  }

  /**
   * The tool returned (its output item is `item`): the row is completed and the turn's items so
   * far go to `llm_context`. Returns the tool's name, or undefined when it had completed.
   */
  toolCompleted(callId: string, fallbackName: string, result: string, success: boolean, item: AgentInputItem | undefined): string | undefined {
    const call = this.#calls.get(callId);
    if (call?.completed) return undefined;
    if (call) {
      call.completed = true;
      this.#updateTool(call, result, success, DONE);
    }
    if (item) this.#sinceUsage.push(item);
    this.#flushItems();
    return call?.name ?? fallbackName;
  }

  /** What is open now, for `endTurn`. */
  open(): OpenTurn {
    const calls = [...this.#calls]
      .filter(([, c]) => !c.completed)
      .map(([callId, c]) => ({ callId, name: c.name, args: parseArguments(c.args), hasRow: c.rowId !== undefined, inContext: c.rowId !== undefined }));
    return { openText: this.#segment?.text, unsaid: this.#unsaid.join('\n\n'), calls };
  }

  /** Writes the end of the turn after everything queued, and waits; throws the first write error. */
  async end(ending: TurnEnding): Promise<void> {
    this.#closeSegment(ending.text?.flags ?? DONE);
    this.#saveLoneReasoning();
    for (const tool of ending.tools) {
      const call = this.#calls.get(tool.callId);
      if (!call || call.completed) continue;
      call.completed = true;
      if (!tool.insert) {
        this.#updateTool(call, tool.result, tool.success, tool.flags);
        continue;
      }
      // A call whose card was shown but whose tool never started: its row, complete at once.
      const row = { role: 'tool_call' as const, tool_call_id: tool.callId, tool_name: tool.name, tool_arguments: tool.args };
      const done = { tool_result: tool.result, tool_success: tool.success, metadata: tool.flags };
      call.rowId = this.#write(async () => (await insertAfterLeaf(this.db, this.sessionUuid, { ...row, ...done })).id);
    }
    this.#pending.push(...ending.context);
    this.#items.push(...ending.context);
    this.#flushItems();
    await this.#queue.idle();
    if (this.#error !== undefined) throw this.#error;
  }

  /**
   * The context's size: the provider's last count plus an estimate of what was added since, else
   * `before` plus an estimate of every item of the turn.
   */
  contextTokens(before: number, extra: readonly AgentInputItem[], count: (items: AgentInputItem[]) => number): number {
    const since = [...this.#sinceUsage, ...extra];
    if (!this.#usage) return before + count(this.#items);
    return this.#usage.inputTokens + this.#usage.outputTokens + (since.length > 0 ? count(since) : 0);
  }

  get usage(): ResponseUsage | undefined {
    return this.#usage;
  }

  /** Stops the checkpoint timer (the turn is over). */
  dispose(): void {
    this.#clearTimer();
  }

  #flushItems(): void {
    const items = this.#pending;
    if (items.length === 0) return;
    this.#pending = [];
    void this.#write(async () => {
      await this.#context.addItems(items);
      return undefined;
    });
  }

  #updateTool(call: Call, result: string, success: boolean, flags: RowFlags): void {
    const rowId = call.rowId;
    if (!rowId) return;
    void this.#write(async () => {
      const id = await rowId;
      if (id) await this.db.query('UPDATE messages SET tool_result = $2, tool_success = $3, metadata = $4 WHERE id = $1', [id, toStorableText(result), success, flags]);
      return id;
    });
  }

  #closeSegment(flags: RowFlags): void {
    this.#clearTimer();
    const segment = this.#segment;
    if (!segment) return;
    this.#segment = undefined;
    this.#saveText(segment, flags);
  }

  /** Reasoning followed by a tool call or the end, with no text: a row of its own, with empty text. */
  #saveLoneReasoning(): void {
    const reasoning = this.#reasoning;
    if (reasoning === '') return;
    this.#reasoning = '';
    const row = { role: 'assistant' as const, content: '', reasoning, metadata: DONE };
    void this.#write(async () => (await insertAfterLeaf(this.db, this.sessionUuid, row)).id);
  }

  #checkpoint(): void {
    this.#timer = undefined;
    if (!this.#segment) return;
    this.#saveText(this.#segment, STREAMING);
    this.#timer = setTimeout(() => this.#checkpoint(), CHECKPOINT_INTERVAL_MS).unref();
  }

  /**
   * INSERT once per segment, then UPDATE the same row (with the other turns' saves of the moment);
   * a checkpoint with nothing new is skipped.
   */
  #saveText(segment: Segment, flags: RowFlags): void {
    const { text } = segment;
    const reasoning = segment.reasoning === '' ? null : segment.reasoning;
    const length = text.length + segment.reasoning.length;
    if (length === segment.savedLength && flags.streaming) return;
    segment.savedLength = length;
    const existing = segment.rowId;
    segment.rowId = this.#write(async () => {
      const id = existing ? await existing : undefined;
      if (!id) return (await insertAfterLeaf(this.db, this.sessionUuid, { role: 'assistant', content: text, metadata: flags, reasoning })).id;
      await saveText(this.db, { rowId: id, content: toStorableText(text), flags, reasoning: reasoning === null ? null : toStorableText(reasoning) });
      return id;
    });
  }

  /** Queues a write; a failure is kept (the first one is reported by `end`) and the next writes still run. */
  #write(fn: () => Promise<string | undefined>): RowId {
    return this.#queue.run(fn).catch((err: unknown) => {
      this.#error ??= err instanceof Error ? err : new Error(String(err));
      return undefined;
    });
  }

  #clearTimer(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
