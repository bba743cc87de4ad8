/**
 * The context hooks' decisions before and after a turn, where no summary is needed: they answer
 * from the facts alone and never touch the database. (Summaries through real turns:
 * through-turns.test.ts.)
 */
import { describe, expect, it } from 'vitest';
import type { TurnFacts } from '../../src/chat/hooks.js';
import { createContextHooks } from '../../src/context/turn-hooks.js';
import type { Database } from '../../src/db/database.js';
import { OfflineModelProvider } from '../../src/llm/offline-model.js';
import { createMetrics } from '../../src/observability/metrics.js';
import type { SessionRow } from '../../src/sessions/types.js';

const untouchable = new Proxy({} as Database, {
  get: () => {
    throw new Error('the database was used');
  },
});
const hooks = createContextHooks({ db: untouchable, modelProvider: new OfflineModelProvider(), metrics: createMetrics() });

const WINDOW = 1_000;
function facts(total: number, estimated: number): TurnFacts {
  return {
    session: { id: 'uuid', model: 'gpt-4o', total_tokens: total } as SessionRow,
    turnId: 'turn_1',
    requestId: 'req-1',
    signal: new AbortController().signal,
    emit: () => {
      throw new Error('no event expected');
    },
    estimatedTokens: estimated,
    contextWindow: WINDOW,
    threshold: 800,
  };
}

describe('context hooks', () => {
  it('let a turn at or under the threshold call the model', async () => {
    await expect(hooks.beforeModelCall(facts(0, 10))).resolves.toEqual({ kind: 'continue' });
    await expect(hooks.beforeModelCall(facts(700, 800))).resolves.toEqual({ kind: 'continue' });
  });

  it('refuse a message larger than the whole window, saying how large it is', async () => {
    const decision = await hooks.beforeModelCall(facts(100, 100 + WINDOW + 1));
    expect(decision).toMatchObject({ kind: 'refuse', error: { code: 'CTX_4101' } });
    expect(decision.kind === 'refuse' && decision.error.message).toContain(`about ${WINDOW + 1} tokens`);
    expect(decision).not.toHaveProperty('totalAfterSummary');
  });

  it('do not summarize after a turn that ends at or under the threshold', async () => {
    await expect(hooks.afterTurn(facts(800, 800))).resolves.toBeUndefined();
  });

  it('title a session from its first exchange', async () => {
    const title = await hooks.title('offline', () => Promise.resolve({ user: 'Plan a trip to Lisbon', assistant: 'Here is a plan.' }), new AbortController().signal);
    expect(typeof title).toBe('string');
    expect(title?.length).toBeGreaterThan(0);
  });
});
