/**
 * Summarizes the model context of a session's active path (the branch a running turn is on) and
 * persists the result: loads the path's items, plans, asks the model, then in one transaction adds
 * one system summary item that stands for the older items of that path (they stay: other branches
 * may still need them), recomputes the session's token counters and saves the
 * `summarize_conversation` card row as a child of the active leaf. Emits the card and
 * `token_usage` events as it goes. Framework-free: the chat turn and the REST route both call it.
 */
import { randomBytes } from 'node:crypto';
import type { AgentInputItem } from '@openai/agents';
import { z } from 'zod';
import { pathContextRows } from '../chat/context-store.js';
import { insertMessage } from '../chat/message-store.js';
import type { Database } from '../db/database.js';
import { AppError } from '../errors/app-error.js';
import type { SessionRow } from '../sessions/types.js';
import { type EmitContextEvent, SUMMARY_TOOL_NAME } from './events.js';
import { contextWindowFor, triggerTokens } from './model-windows.js';
import { makeSummaryItem, planSummary } from './summary-plan.js';
import { type CompleteFn, type SleepFn, SUMMARY_MAX_INPUT_CHARS, SummarizationFailedError, summarizeItems } from './summarizer.js';
import { countItem, countItems, isToolItem } from './tokens.js';

export interface SummarizeSessionOptions {
  db: Database;
  /** The session (only `id` is read; counters are re-read from the database). */
  session: Pick<SessionRow, 'id'>;
  /** The model that counts tokens (its encoding) and, unless `window` is given, sets the window. */
  model: string;
  /** The completion used for the summary (the session's model). */
  complete: CompleteFn;
  /** Receives the card events and `token_usage`, in order. */
  emit: EmitContextEvent;
  /** Summarize even when the context is under the threshold. Default false. */
  force?: boolean;
  /** Aborts the model request; the context is then left untouched and the reason rethrown. */
  signal?: AbortSignal;
  /** The model's window (`contextWindowFor(model, overrides)`); default: the built-in table. */
  window?: number;
  /** Injected wait between retries (tests). */
  sleep?: SleepFn;
  /** The wait before the first retry (`SUMMARY_RETRY_BACKOFF_MS`); default {@link SUMMARY_BACKOFF_MS}. */
  retryBackoffMs?: number;
}

export const SummarizeSuccessSchema = z.object({
  success: z.literal(true),
  summary: z.string(),
  tokens_before: z.number().int(),
  tokens_after: z.number().int(),
  tool_call_id: z.string(),
});
export const SummarizeSkippedSchema = z.object({ success: z.literal(false), message: z.string() });
/** The REST answer of `POST /sessions/{id}/summarize` is exactly this. */
export const SummarizeResultSchema = z.union([SummarizeSuccessSchema, SummarizeSkippedSchema]);
export type SummarizeResult = z.infer<typeof SummarizeResultSchema>;

export const NOTHING_TO_SUMMARIZE = 'Nothing to summarize yet: the conversation is still short enough to keep verbatim.';
export const BELOW_THRESHOLD = 'Nothing to summarize: the context is below the summarization threshold.';
export const SUMMARY_FAILED_MESSAGE = 'The conversation could not be summarized; it was left unchanged.';
const INTERRUPTED_RESULT = 'Interrupted by the user before the tool returned.';

/** `sum_` + 8 lowercase hex. */
export function newSummaryToolCallId(): string {
  return `sum_${randomBytes(4).toString('hex')}`;
}

/**
 * The client-facing form of a failed summarization: `EXT_7010`, a human message. The chat turn
 * sends it as an `error` event with `recoverable: true` and still ends the turn normally; the
 * REST route throws it (502).
 */
export function summaryFailureAppError(err: SummarizationFailedError): AppError {
  return new AppError('EXT_7010', SUMMARY_FAILED_MESSAGE, undefined, { cause: err });
}

/**
 * Summarizes the session's context.
 *
 * @returns the `SummarizeResult`: `{ success: true, … }` after a summary was persisted, or
 *   `{ success: false, message }` without any event or write when there is nothing to summarize
 *   (fewer than 3 older items, or under the threshold without `force`).
 * @throws SummarizationFailedError when the model failed 3 times — after a `function_completed`
 *   with `tool_success: false`; the context and counters are untouched.
 * @throws the abort reason when `signal` aborts — after a `function_completed` marked `interrupted`.
 * @throws AppError `RES_3004` when the context changed underneath (nothing is written).
 */
export async function summarizeSession(opts: SummarizeSessionOptions): Promise<SummarizeResult> {
  const { db, session, model, complete, emit, force = false } = opts;
  const signal = opts.signal ?? new AbortController().signal;
  const window = opts.window ?? contextWindowFor(model);
  const threshold = triggerTokens(window);

  const [rows, sessionRows] = await Promise.all([
    pathContextRows(db, session.id),
    db.query<{ total_tokens: number }>('SELECT total_tokens FROM sessions WHERE id = $1', [session.id]),
  ]);
  const stored = sessionRows.rows[0]?.total_tokens ?? 0;
  const items: AgentInputItem[] = rows.map((row) => row.item);

  const counted = countItems(model, items);
  // The provider-corrected total also carries instructions and tool schemas; they stay after a
  // summary, so that part (whatever the stored total holds beyond the items) is carried over.
  const fixedPart = Math.max(0, stored - counted);
  const tokensBefore = counted + fixedPart;
  if (!force && tokensBefore <= threshold) return { success: false, message: BELOW_THRESHOLD };

  const plan = planSummary(items);
  if (!plan) return { success: false, message: NOTHING_TO_SUMMARIZE };
  // The summary covers the path up to its last older item and hangs on that item's message, so
  // it serves exactly the paths through that message.
  const lastCovered = rows[plan.older.length - 1];
  if (!lastCovered) return { success: false, message: NOTHING_TO_SUMMARIZE };
  // Every covered item must still be there when the summary is written (nothing rewrote the path).
  const coveredSeqs = rows.slice(0, plan.older.length).map((r) => r.seq);

  const toolCallId = newSummaryToolCallId();
  const card = { tool_call_id: toolCallId, tool_name: SUMMARY_TOOL_NAME };
  emit({ type: 'function_detected', ...card });
  emit({ type: 'function_executing', ...card, tool_arguments: { tokens_before: tokensBefore } });

  let summary: string;
  let tokensAfter: number;
  try {
    summary = await summarizeItems(plan.older, complete, {
      signal,
      sleep: opts.sleep,
      backoffMs: opts.retryBackoffMs,
      // About half the window at ~4 characters per token, so the request itself always fits.
      maxInputChars: Math.min(SUMMARY_MAX_INPUT_CHARS, window * 2),
    });
    signal.throwIfAborted();
    const summaryItem = makeSummaryItem(summary);
    tokensAfter = countItem(model, summaryItem) + countItems(model, plan.kept) + fixedPart;
    const toolTokens = plan.kept.filter(isToolItem).reduce((sum, item) => sum + countItem(model, item), 0);

    await db.transaction(async (tx) => {
      await tx.query('SELECT id FROM sessions WHERE id = $1 FOR UPDATE', [session.id]);
      const inserted = await tx.query(
        `INSERT INTO llm_context (session_id, seq, item, message_id, summary_through_seq)
         SELECT $1, (SELECT COALESCE(MAX(seq), 0) + 1 FROM llm_context WHERE session_id = $1), $2, $3, $4
         WHERE (SELECT count(*) FROM llm_context WHERE session_id = $1 AND seq = ANY($5::bigint[])) = cardinality($5::bigint[])`,
        [session.id, summaryItem, lastCovered.message_id, lastCovered.seq, coveredSeqs],
      );
      if (inserted.rowCount !== 1) throw new AppError('RES_3004', 'The conversation changed while it was being summarized; try again.');
      await tx.query('UPDATE sessions SET total_tokens = $2, accumulated_tool_tokens = $3 WHERE id = $1', [session.id, tokensAfter, toolTokens]);
      const card = { role: 'tool_call' as const, tool_call_id: toolCallId, tool_name: SUMMARY_TOOL_NAME };
      await insertMessage(tx, session.id, { ...card, tool_arguments: { tokens_before: tokensBefore }, tool_result: summary, tool_success: true });
    });
  } catch (err) {
    const interrupted = signal.aborted;
    emit({
      type: 'function_completed',
      ...card,
      tool_result: interrupted ? INTERRUPTED_RESULT : SUMMARY_FAILED_MESSAGE,
      tool_success: false,
      ...(interrupted ? { interrupted: true } : {}),
    });
    throw err;
  }

  emit({ type: 'function_completed', ...card, tool_result: summary, tool_success: true });
  emit({ type: 'token_usage', current: tokensAfter, limit: window, threshold });
  return { success: true, summary, tokens_before: tokensBefore, tokens_after: tokensAfter, tool_call_id: toolCallId };
}
