import type { AgentInputItem } from '@openai/agents';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { pathContextRows } from '../../src/chat/context-store.js';
import { ContextEventSchema, type ContextEvent } from '../../src/context/events.js';
import { triggerTokens } from '../../src/context/model-windows.js';
import {
  BELOW_THRESHOLD,
  NOTHING_TO_SUMMARIZE,
  summarizeSession,
  SummarizeResultSchema,
  summaryFailureAppError,
} from '../../src/context/summarize-session.js';
import type { CompleteFn } from '../../src/context/summarizer.js';
import { SummarizationFailedError } from '../../src/context/summarizer.js';
import { isSummaryItem, SUMMARY_PREFIX } from '../../src/context/summary-plan.js';
import { countItem, countItems, isToolItem } from '../../src/context/tokens.js';
import type { Database } from '../../src/db/database.js';
import { migrate } from '../../src/db/migrate.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { exchange } from './items.js';

const MODEL = 'gpt-4o-mini';
const WINDOW = 128_000;

let testDb: TestDatabase;
let db: Database;
let userId: string;
let counter = 0;

beforeAll(async () => {
  testDb = await createTestDatabase();
  db = testDb.db;
  await migrate(db);
  const { rows } = await db.query<{ id: string }>(`INSERT INTO users (email) VALUES ('context@example.com') RETURNING id`);
  userId = rows[0]!.id;
});

afterAll(async () => {
  await testDb?.drop();
});

interface Fixture {
  id: string;
  items: AgentInputItem[];
}

/** A session whose llm_context holds `items` (seq 1..n), with total_tokens = their count + `fixed`. */
async function sessionWith(items: AgentInputItem[], fixed = 0): Promise<Fixture> {
  counter++;
  const total = countItems(MODEL, items) + fixed;
  const { rows } = await db.query<{ id: string }>(
    `INSERT INTO sessions (user_id, session_id, model, total_tokens, message_count)
     VALUES ($1, $2, $3, $4, 2) RETURNING id`,
    [userId, `chat_${counter.toString(16).padStart(12, '0')}`, MODEL, total],
  );
  const id = rows[0]!.id;
  for (const [i, item] of items.entries()) {
    await db.query('INSERT INTO llm_context (session_id, seq, item) VALUES ($1, $2, $3)', [id, i + 1, item as Record<string, unknown>]);
  }
  // Two display rows already exist, so the card must take seq 3.
  await db.query(`INSERT INTO messages (session_id, seq, role, content) VALUES ($1, 1, 'user', 'hi'), ($1, 2, 'assistant', 'hello')`, [id]);
  return { id, items };
}

/** The context the model sees: the active path's items, its summary first. */
async function contextOf(id: string): Promise<Array<{ seq: number; item: AgentInputItem }>> {
  return (await pathContextRows(db, id)).map((r) => ({ seq: r.seq, item: r.item }));
}

async function storedItems(id: string): Promise<number> {
  const { rows } = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM llm_context WHERE session_id = $1', [id]);
  return rows[0]!.n;
}

async function counters(id: string) {
  const { rows } = await db.query<{ total_tokens: number; accumulated_tool_tokens: number; message_count: number }>(
    'SELECT total_tokens, accumulated_tool_tokens, message_count FROM sessions WHERE id = $1',
    [id],
  );
  return rows[0]!;
}

function scripted(answers: Array<string | Error>): { complete: CompleteFn; calls: number } {
  const state = {
    calls: 0,
    complete: (() => {
      state.calls++;
      const next = answers.shift();
      if (next === undefined || next instanceof Error) return Promise.reject(next ?? new Error('no more answers'));
      return Promise.resolve(next);
    }) as CompleteFn,
  };
  return state;
}

const noSleep = () => Promise.resolve();

describe('summarizeSession', () => {
  let events: ContextEvent[];
  const emit = (event: ContextEvent) => void events.push(ContextEventSchema.parse(event));
  beforeEach(() => {
    events = [];
  });

  it('puts one summary item in front of the last two exchanges, kept verbatim, and keeps the older items for other branches', async () => {
    const items = [...exchange(1), ...exchange(2), ...exchange(3), ...exchange(4)];
    const s = await sessionWith(items);
    const before = await counters(s.id);
    const model = scripted(['The user asked four questions about files; all were answered.']);

    const outcome = await summarizeSession({ db, session: s, model: MODEL, complete: model.complete, emit, force: true, sleep: noSleep });

    expect(SummarizeResultSchema.parse(outcome)).toEqual(outcome);
    if (!outcome.success) throw new Error('expected a summary');
    const rows = await contextOf(s.id);
    expect(rows).toHaveLength(1 + 8);
    expect(isSummaryItem(rows[0]!.item)).toBe(true);
    expect((rows[0]!.item as { content: string }).content).toContain('The user asked four questions');
    expect(rows.slice(1).map((r) => r.item)).toEqual([...exchange(3), ...exchange(4)]);
    // The summarized items stay stored: a branch that leaves before them still needs them.
    expect(await storedItems(s.id)).toBe(items.length + 1);

    const after = await counters(s.id);
    const left = rows.map((r) => r.item);
    expect(outcome.tokens_before).toBe(before.total_tokens);
    expect(after.total_tokens).toBe(countItems(MODEL, left));
    expect(after.total_tokens).toBe(outcome.tokens_after);
    expect(after.total_tokens).toBeLessThan(before.total_tokens);
    expect(after.accumulated_tool_tokens).toBe(left.filter(isToolItem).reduce((n, i) => n + countItem(MODEL, i), 0));
    expect(after.accumulated_tool_tokens).toBeGreaterThan(0);
    expect(after.message_count).toBe(before.message_count + 1);
  });

  it('saves the summarize_conversation card row after the existing messages', async () => {
    const s = await sessionWith([...exchange(1), ...exchange(2), ...exchange(3)]);
    const outcome = await summarizeSession({ db, session: s, model: MODEL, complete: scripted(['Dense summary.']).complete, emit, force: true });
    if (!outcome.success) throw new Error('expected a summary');
    expect(outcome.tool_call_id).toMatch(/^sum_[0-9a-f]{8}$/);
    const { rows } = await db.query<Record<string, unknown>>(
      `SELECT seq, role, tool_call_id, tool_name, tool_arguments, tool_result, tool_success FROM messages
       WHERE session_id = $1 AND role = 'tool_call'`,
      [s.id],
    );
    expect(rows).toEqual([
      {
        seq: 3,
        role: 'tool_call',
        tool_call_id: outcome.tool_call_id,
        tool_name: 'summarize_conversation',
        tool_arguments: { tokens_before: outcome.tokens_before },
        tool_result: 'Dense summary.',
        tool_success: true,
      },
    ]);
  });

  it('emits the tool card and then the new token usage, in order', async () => {
    const s = await sessionWith([...exchange(1), ...exchange(2), ...exchange(3)]);
    const outcome = await summarizeSession({ db, session: s, model: MODEL, complete: scripted(['Short.']).complete, emit, force: true, window: WINDOW });
    if (!outcome.success) throw new Error('expected a summary');
    const card = { tool_call_id: outcome.tool_call_id, tool_name: 'summarize_conversation' };
    expect(events).toEqual([
      { type: 'function_detected', ...card },
      { type: 'function_executing', ...card, tool_arguments: { tokens_before: outcome.tokens_before } },
      { type: 'function_completed', ...card, tool_result: 'Short.', tool_success: true },
      { type: 'token_usage', current: outcome.tokens_after, limit: WINDOW, threshold: triggerTokens(WINDOW) },
    ]);
  });

  it('carries the instructions part of a provider-reported total over to the new total', async () => {
    const s = await sessionWith([...exchange(1), ...exchange(2), ...exchange(3)], 700);
    const outcome = await summarizeSession({ db, session: s, model: MODEL, complete: scripted(['S.']).complete, emit, force: true });
    if (!outcome.success) throw new Error('expected a summary');
    const left = (await contextOf(s.id)).map((r) => r.item);
    expect(outcome.tokens_after).toBe(countItems(MODEL, left) + 700);
  });

  it('folds an earlier summary into the next one instead of stacking summaries', async () => {
    const s = await sessionWith([...exchange(1), ...exchange(2), ...exchange(3)]);
    await summarizeSession({ db, session: s, model: MODEL, complete: scripted(['First summary.']).complete, emit, force: true });
    for (const [i, item] of [...exchange(4), ...exchange(5)].entries()) {
      await db.query('INSERT INTO llm_context (session_id, seq, item) VALUES ($1, $2, $3)', [s.id, 100 + i, item as Record<string, unknown>]);
    }
    let input = '';
    const complete: CompleteFn = (_instructions, text) => {
      input = text;
      return Promise.resolve('Second summary.');
    };
    const outcome = await summarizeSession({ db, session: s, model: MODEL, complete, emit, force: true });
    expect(outcome.success).toBe(true);
    expect(input).toContain('First summary.');
    const rows = (await contextOf(s.id)).map((r) => r.item);
    expect(rows.filter(isSummaryItem)).toHaveLength(1);
    expect((rows[0] as { content: string }).content).toBe(`${SUMMARY_PREFIX}:\n\nSecond summary.`);
    expect(rows.slice(1)).toEqual([...exchange(4), ...exchange(5)]);
  });

  it('leaves the context and counters untouched and reports a recoverable failure after three failed answers', async () => {
    const s = await sessionWith([...exchange(1), ...exchange(2), ...exchange(3)]);
    const contextBefore = await contextOf(s.id);
    const countersBefore = await counters(s.id);
    const model = scripted([new Error('provider 500'), '', new Error('provider 503')]);

    const failure = summarizeSession({ db, session: s, model: MODEL, complete: model.complete, emit, force: true, sleep: noSleep });
    const error = await failure.then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(error).toBeInstanceOf(SummarizationFailedError);
    expect(model.calls).toBe(3);
    expect(await contextOf(s.id)).toEqual(contextBefore);
    expect(await counters(s.id)).toEqual(countersBefore);
    const { rows } = await db.query(`SELECT 1 FROM messages WHERE session_id = $1 AND role = 'tool_call'`, [s.id]);
    expect(rows).toHaveLength(0);
    expect(events.map((e) => e.type)).toEqual(['function_detected', 'function_executing', 'function_completed']);
    expect(events[2]).toMatchObject({ tool_success: false });
    const wire = summaryFailureAppError(error as SummarizationFailedError);
    expect(wire.code).toBe('EXT_7010');
    expect(wire.message).not.toMatch(/provider 50/);
  });

  it('succeeds when the third attempt answers', async () => {
    const s = await sessionWith([...exchange(1), ...exchange(2), ...exchange(3)]);
    const model = scripted([new Error('boom'), '  ', 'Got there.']);
    const outcome = await summarizeSession({ db, session: s, model: MODEL, complete: model.complete, emit, force: true, sleep: noSleep });
    expect(outcome).toMatchObject({ success: true, summary: 'Got there.' });
    expect(model.calls).toBe(3);
  });

  it('leaves the context untouched and marks the card interrupted when the caller aborts', async () => {
    const s = await sessionWith([...exchange(1), ...exchange(2), ...exchange(3)]);
    const contextBefore = await contextOf(s.id);
    const controller = new AbortController();
    const complete: CompleteFn = () => {
      controller.abort(new Error('interrupted'));
      return Promise.resolve('too late');
    };
    await expect(summarizeSession({ db, session: s, model: MODEL, complete, emit, force: true, signal: controller.signal })).rejects.toThrow('interrupted');
    expect(await contextOf(s.id)).toEqual(contextBefore);
    expect(events.at(-1)).toMatchObject({ type: 'function_completed', tool_success: false, interrupted: true });
  });

  it('refuses to write when the context changed while the summary was being made', async () => {
    const s = await sessionWith([...exchange(1), ...exchange(2), ...exchange(3)]);
    const complete: CompleteFn = async () => {
      // Someone else rewrote the older part meanwhile (e.g. a second forced summarization).
      await db.query('DELETE FROM llm_context WHERE session_id = $1 AND seq = 1', [s.id]);
      return 'Stale summary.';
    };
    await expect(summarizeSession({ db, session: s, model: MODEL, complete, emit, force: true })).rejects.toMatchObject({ code: 'RES_3004' });
    const rows = await contextOf(s.id);
    expect(rows).toHaveLength(11);
    expect(rows.some((r) => isSummaryItem(r.item))).toBe(false);
    expect(events.at(-1)).toMatchObject({ type: 'function_completed', tool_success: false });
  });

  it('answers "nothing to summarize" without events or writes when the conversation is short', async () => {
    const s = await sessionWith([...exchange(1), ...exchange(2)]);
    const model = scripted(['unused']);
    const outcome = await summarizeSession({ db, session: s, model: MODEL, complete: model.complete, emit, force: true });
    expect(outcome).toEqual({ success: false, message: NOTHING_TO_SUMMARIZE });
    expect(model.calls).toBe(0);
    expect(events).toEqual([]);
    expect(await contextOf(s.id)).toHaveLength(8);
  });

  it('does nothing without force while the context is at or under the threshold, and summarizes once it is over', async () => {
    const items = [...exchange(1), ...exchange(2), ...exchange(3)];
    const size = countItems(MODEL, items);
    const atThreshold = await sessionWith(items);
    const model = scripted(['Over the line.']);
    // A window whose threshold is exactly the context's size: not over, so no summary.
    const exactWindow = Math.ceil((size * 5) / 4);
    expect(triggerTokens(exactWindow)).toBe(size);
    expect(await summarizeSession({ db, session: atThreshold, model: MODEL, complete: model.complete, emit, window: exactWindow })).toEqual({
      success: false,
      message: BELOW_THRESHOLD,
    });
    const overThreshold = await sessionWith(items, 1);
    const outcome = await summarizeSession({ db, session: overThreshold, model: MODEL, complete: model.complete, emit, window: exactWindow });
    expect(outcome.success).toBe(true);
  });
});
