/**
 * `llm_context`: the SDK input items the model sees next turn, read and appended in order, plus the repairs that keep it valid after an interrupt or a crash
 * (every function call gets an output; partial text is kept, marked as interrupted).
 */
import type { AgentInputItem } from '@openai/agents';
import type { Queryable } from '../db/database.js';
import { toStorableJson } from '../util/storable-text.js';
import { rowWeight, sessionRows, valueOf } from '../db/shared-statement.js';
import { activePath, pathTuples, type RowTuple } from './context-paths.js';

/** The result of a tool call that `by` stopped ("the user", "a server shutdown", ...). */
export function interruptedToolResult(by: string): string {
  return `Interrupted by ${by} before the tool returned.`;
}
/** The mark after cut text in the model's context, saying what cut it. */
export function interruptedTextMark(by: string): string {
  return `\n\n[interrupted by ${by}]`;
}
export const INTERRUPTED_TOOL_RESULT = interruptedToolResult('the user');
/** Who stopped a turn whose server stopped without ending it (a crash, a kill). */
export const SERVER_STOPPED = 'the server stopping';
export const FAILED_TURN_TOOL_RESULT = 'The turn failed before the tool returned.';
export const INTERRUPTED_TEXT_MARK = interruptedTextMark('the user');

/**
 * Appends of many sessions at once (`sessionRows`): each session's items after its own last seq,
 * hung on the given message, else on the session's active leaf.
 */
const APPEND_SQL = `
INSERT INTO llm_context (session_id, seq, item, message_id)
SELECT r.session_id::uuid, base.n + t.ord, t.value, COALESCE(r.message_id::uuid, (SELECT active_leaf_id FROM sessions WHERE id = r.session_id::uuid))
FROM unnest($1::text[], $2::text[], $3::text[]) AS r(session_id, items, message_id)
CROSS JOIN LATERAL jsonb_array_elements(r.items::jsonb) WITH ORDINALITY AS t(value, ord)
CROSS JOIN LATERAL (SELECT COALESCE(MAX(seq), 0) AS n FROM llm_context WHERE session_id = r.session_id::uuid) AS base`;

interface Append {
  sessionUuid: string;
  /** The items as storable JSON text (`toStorableJson`). */
  items: string;
  messageId: string | null;
}

const append = async (db: Queryable, batch: readonly Append[]): Promise<void> => {
  await db.query(APPEND_SQL, [batch.map((a) => a.sessionUuid), batch.map((a) => a.items), batch.map((a) => a.messageId)]);
};

const appends = sessionRows<Append, void>({
  session: (a) => a.sessionUuid,
  weigh: (a) => rowWeight(a.items.length),
  many: async (db, batch) => {
    await append(db, batch);
    return batch.map(() => ({ value: undefined }));
  },
  one: (db, a) => append(db, [a]),
});

/** One `llm_context` row of a path. */
export interface ContextRow {
  seq: number;
  item: AgentInputItem;
  message_id: string | null;
  /** Set on summary items: the last seq of its path the summary covers. */
  summary_through_seq: number | null;
}

/**
 * The context of one path, unrepaired: the path's summary with the highest `through` (if any),
 * then the path's other items after it, in seq order. Along one path seq only grows, so what a
 * summary covers is exactly the path's items up to its `through`.
 */
export function contextOfPath(rows: readonly ContextRow[]): ContextRow[] {
  let summary: ContextRow | undefined;
  for (const row of rows) {
    if (row.summary_through_seq === null) continue;
    if (!summary || Number(row.summary_through_seq) > Number(summary.summary_through_seq)) summary = row;
  }
  const through = summary ? Number(summary.summary_through_seq) : Number.NEGATIVE_INFINITY;
  const rest = rows.filter((r) => r.summary_through_seq === null && Number(r.seq) > through);
  return summary ? [summary, ...rest] : rest;
}

/** Reads the context rows of the path root → `leafId` (default: the session's active leaf). */
export async function pathContextRows(q: Queryable, sessionUuid: string, leafId?: string | null): Promise<ContextRow[]> {
  return rowsOfPath(leafId == null ? (await activePath(q, sessionUuid)).tuples : await pathTuples(q, sessionUuid, leafId));
}

/**
 * The unrepaired context of the session's active path, read while it still ends at `leaf`;
 * undefined when it ends elsewhere (a message was saved after `leaf` meanwhile).
 */
export async function activeItemsAt(q: Queryable, sessionUuid: string, leaf: string | null): Promise<AgentInputItem[] | undefined> {
  const path = await activePath(q, sessionUuid);
  return path.leaf === leaf ? rowsOfPath(path.tuples).map((r) => r.item) : undefined;
}

function rowsOfPath(read: readonly RowTuple[]): ContextRow[] {
  // A delta read's items may have been written before some of the earlier read's (a branch switched to).
  const tuples = inSeqOrder(read) ? read : [...read].sort((a, b) => Number(a[0]) - Number(b[0]));
  return contextOfPath(tuples.map(([seq, summary_through_seq, message_id, item]) => ({ seq, summary_through_seq, message_id, item })));
}

function inSeqOrder(tuples: readonly RowTuple[]): boolean {
  for (let i = 1; i < tuples.length; i++) if (Number((tuples[i - 1] as RowTuple)[0]) > Number((tuples[i] as RowTuple)[0])) return false;
  return true;
}

/**
 * A session's `llm_context`: the items of one path of its conversation tree. `getItems` always
 * returns a valid context; new items hang on a message row (default: the active leaf, the newest
 * row of the running turn).
 */
export class ContextStore {
  constructor(
    private readonly db: Queryable,
    private readonly sessionUuid: string,
  ) {}

  /** The repaired context of the path root → `leafId` (default: the active leaf). */
  async getItems(leafId?: string | null): Promise<AgentInputItem[]> {
    const rows = await pathContextRows(this.db, this.sessionUuid, leafId);
    return repairContext(rows.map((r) => r.item));
  }

  /** Appends `items` after the last one, in one statement, hung on `messageId` (default: the active leaf). */
  async addItems(items: AgentInputItem[], messageId?: string): Promise<void> {
    if (items.length === 0) return;
    valueOf(await appends.call(this.db, { sessionUuid: this.sessionUuid, items: toStorableJson(items), messageId: messageId ?? null }));
  }

  /** Removes the newest `count` items that are not summaries (a refused turn takes its user items back). */
  async removeNewest(count: number): Promise<void> {
    if (count <= 0) return;
    await this.db.query(
      `DELETE FROM llm_context WHERE id IN (
         SELECT id FROM llm_context WHERE session_id = $1 AND summary_through_seq IS NULL ORDER BY seq DESC LIMIT $2)`,
      [this.sessionUuid, count],
    );
  }
}

type FunctionCall = Extract<AgentInputItem, { type: 'function_call' }>;
type FunctionCallResult = Extract<AgentInputItem, { type: 'function_call_result' }>;

function isFunctionCall(item: AgentInputItem): item is FunctionCall {
  return (item as { type?: unknown }).type === 'function_call';
}

function isFunctionResult(item: AgentInputItem): item is FunctionCallResult {
  return (item as { type?: unknown }).type === 'function_call_result';
}

export function syntheticToolResult(call: { callId: string; name: string }, output = INTERRUPTED_TOOL_RESULT): FunctionCallResult {
  return { type: 'function_call_result', callId: call.callId, name: call.name, status: 'incomplete', output };
}

/** The partial answer of an interrupted turn, marked so the model knows it was cut. */
export function interruptedAssistantMessage(text: string, mark = INTERRUPTED_TEXT_MARK): AgentInputItem {
  return {
    type: 'message',
    role: 'assistant',
    status: 'incomplete',
    content: [{ type: 'output_text', text: text + mark }],
  };
}

export function userMessage(content: string): AgentInputItem {
  return { type: 'message', role: 'user', content };
}

/** Function calls in `items` that have no output, in order. */
export function danglingCalls(items: readonly AgentInputItem[]): FunctionCall[] {
  const answered = new Set<string>();
  for (const item of items) if (isFunctionResult(item)) answered.add(item.callId);
  return items.filter((i): i is FunctionCall => isFunctionCall(i) && !answered.has(i.callId));
}

/**
 * Gives every function call without an output a synthetic one, placed right after the run of
 * calls it belongs to (a crash between a call and its output must not break the next request).
 * Returns `items` itself when nothing is missing.
 */
export function repairContext(items: AgentInputItem[], output = interruptedToolResult(SERVER_STOPPED)): AgentInputItem[] {
  const missing = danglingCalls(items);
  if (missing.length === 0) return items;
  const missingIds = new Set(missing.map((c) => c.callId));
  const out: AgentInputItem[] = [];
  let pending: FunctionCall[] = [];
  const release = () => {
    for (const call of pending) out.push(syntheticToolResult(call, output));
    pending = [];
  };
  for (const item of items) {
    if (!isFunctionCall(item) && !isFunctionResult(item)) release();
    out.push(item);
    if (isFunctionCall(item) && missingIds.has(item.callId)) pending.push(item);
  }
  release();
  return out;
}
