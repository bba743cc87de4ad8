/**
 * The context hooks' decisions, from the facts alone: go on, summarize first, or refuse before the
 * model call; go on or refuse after a summary; summarize after a turn or not. (Summaries through
 * real turns: through-turns.test.ts.)
 */
import { describe, expect, it } from 'vitest';
import type { TurnFacts } from '../../src/chat/hooks.js';
import { createContextHooks } from '../../src/context/turn-hooks.js';
import { OfflineModelProvider } from '../../src/llm/offline-model.js';
import type { SessionRow } from '../../src/sessions/types.js';

// Calls pass straight through: recording them is the usage tests' business.
const hooks = createContextHooks({ modelProvider: new OfflineModelProvider(), usage: { models: (base) => base } });

const WINDOW = 1_000;
function facts(total: number, estimated: number): TurnFacts {
  return {
    session: { id: 'uuid', model: 'gpt-4o', total_tokens: total } as SessionRow,
    turnId: 'turn_1',
    requestId: 'req-1',
    signal: new AbortController().signal,
    emit: () => undefined,
    estimatedTokens: estimated,
    contextWindow: WINDOW,
    threshold: 800,
  };
}

describe('context hooks', () => {
  it('let a turn at or under the threshold call the model, and ask for a summary one token over it', () => {
    expect(hooks.beforeModelCall(facts(0, 10))).toEqual({ kind: 'continue' });
    expect(hooks.beforeModelCall(facts(700, 800))).toEqual({ kind: 'continue' });
    expect(hooks.beforeModelCall(facts(700, 801))).toEqual({ kind: 'summarize' });
  });

  it('refuse a message larger than the whole window, saying how large it is', () => {
    const decision = hooks.beforeModelCall(facts(100, 100 + WINDOW + 1));
    expect(decision).toMatchObject({ kind: 'refuse', error: { code: 'CTX_4101' } });
    expect(decision.kind === 'refuse' && decision.error.message).toContain(`about ${WINDOW + 1} tokens`);
  });

  it('after a summary: go on when the result fits the window, refuse when even that does not', () => {
    expect(hooks.afterSummary(facts(900, 950), { kind: 'summarized', tokensAfter: WINDOW })).toEqual({ kind: 'continue' });
    expect(hooks.afterSummary(facts(900, 950), { kind: 'summarized', tokensAfter: WINDOW + 1 })).toMatchObject({ kind: 'refuse', error: { code: 'CTX_4101' } });
    // No summary: the stored total plus the new items must fit as they are.
    expect(hooks.afterSummary(facts(900, 1_000), { kind: 'not_summarized' })).toEqual({ kind: 'continue' });
    expect(hooks.afterSummary(facts(900, 1_001), { kind: 'not_summarized' })).toMatchObject({ kind: 'refuse' });
  });

  it('summarize after a turn only over the threshold', () => {
    expect(hooks.afterTurn(facts(800, 800))).toBe('none');
    expect(hooks.afterTurn(facts(801, 801))).toBe('summarize');
  });

  it('title a session from its first exchange', async () => {
    const title = await hooks.title({ session: { id: 'uuid', user_id: 'user', model: 'offline' } as SessionRow, turnId: 'turn_1' }, () => Promise.resolve({ user: 'Plan a trip to Lisbon', assistant: 'Here is a plan.' }), new AbortController().signal);
    expect(typeof title).toBe('string');
    expect(title?.length).toBeGreaterThan(0);
  });
});
