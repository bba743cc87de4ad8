/**
 * Budgets through real turns: the chat harness (real database, the fake model server behind the
 * real provider) with a daily budget of 1 000 tokens. A user under it gets their turn; a user at
 * or over it is refused with a QUOTA_ error that says when it resets, before any model call, and
 * keeps their message.
 */
import { tool } from '@openai/agents';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { listMessages } from '../../src/chat/message-store.js';
import { recordCall } from '../../src/usage/ledger.js';
import { field, startChatHarness, type ChatHarness } from '../chat/harness.js';

const lookup = tool({
  name: 'lookup',
  description: 'Looks a word up.',
  parameters: z.object({ word: z.string() }),
  execute: ({ word }) => Promise.resolve(JSON.stringify({ word, meaning: `the meaning of ${word}` })),
});

let h: ChatHarness;

beforeAll(async () => {
  h = await startChatHarness({ tools: [lookup], env: { QUOTA_TOKENS_PER_DAY: '1000' } });
});
afterAll(async () => {
  await h?.close();
});
beforeEach(async () => {
  await h.database.db.query('DELETE FROM model_calls');
  await h.database.db.query('DELETE FROM usage_daily');
  await h.database.db.query(`UPDATE users SET quota = '{}'::jsonb`);
});

/** Tokens already spent today by `owner`, recorded the way a model call is. */
async function spend(owner: 'alice' | 'bob', input: number, output = 0): Promise<void> {
  const call = { userId: h.users[owner].id, sessionUuid: null, turnId: null, purpose: 'turn' as const };
  await recordCall(h.database.db, { call, model: 'gpt-4o-mini', provider: 'openai', usage: { inputTokens: input, cachedInputTokens: 0, outputTokens: output, reasoningTokens: 0 }, prices: undefined });
}

async function chat(content: string, owner: 'alice' | 'bob' = 'alice') {
  const session = await h.createSession(owner);
  const client = await h.connect(session.session_id, { token: owner });
  client.message(content);
  return { session, events: await client.turn(), client };
}

describe('a daily token budget', () => {
  it('a user at 99 % gets one more turn, then a refusal that says when it resets; the model is not called and the message is kept', async () => {
    await spend('alice', 900, 90);
    h.fake.enqueue({ steps: [{ type: 'text', deltas: ['One more answer.'] }], usage: { input_tokens: 40, output_tokens: 5 } });
    const allowed = await chat('One more question');
    expect(allowed.events.at(-1)).toMatchObject({ type: 'assistant_end', finish_reason: 'stop' });

    const requests = h.fake.requests.length;
    const refused = await chat('And another one');
    const error = refused.events.find((e) => e.type === 'error');
    expect(error).toMatchObject({ code: 'QUOTA_3101', recoverable: true });
    const tomorrow = new Date(Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth(), new Date().getUTCDate() + 1));
    expect(field<string>(error, 'message')).toBe(
      `Today’s budget is used up; it resets at ${tomorrow.toISOString().slice(0, 10)} 00:00 UTC. (1,035 of 1,000 tokens used.)`,
    );
    expect(refused.events.at(-1)).toMatchObject({ type: 'assistant_end', finish_reason: 'error' });
    expect(h.fake.requests.length).toBe(requests);
    const messages = await listMessages(h.database.db, refused.session.id);
    expect(messages.map((m) => [m.role, m.content])).toEqual([['user', 'And another one']]);
  });

  it('is checked before each model call of a turn: a tool loop that spends the budget stops before its next request', async () => {
    h.fake.enqueue({ steps: [{ type: 'tool_call', name: 'lookup', arguments: { word: 'pulp' } }], usage: { input_tokens: 1_200, output_tokens: 20 } });
    const { events } = await chat('Look up pulp');
    expect(events.find((e) => e.type === 'function_completed')).toMatchObject({ tool_name: 'lookup', tool_success: true });
    expect(events.find((e) => e.type === 'error')).toMatchObject({ code: 'QUOTA_3101' });
    expect(events.at(-1)).toMatchObject({ type: 'assistant_end', finish_reason: 'error' });
    const { rows } = await h.database.db.query<{ n: number | string }>('SELECT count(*) AS n FROM model_calls WHERE user_id = $1', [h.users.alice.id]);
    expect(Number(rows[0]!.n)).toBe(1);
  });

  it('is per user: another user’s spending does not count, and an administrator’s override replaces the default', async () => {
    await spend('bob', 5_000);
    h.fake.enqueue({ steps: [{ type: 'text', deltas: ['Hello.'] }] });
    expect((await chat('Hi')).events.at(-1)).toMatchObject({ finish_reason: 'stop' });

    // No daily budget for Bob, but a monthly one he has spent.
    await h.database.db.query(`UPDATE users SET quota = '{"tokens_per_day": null, "tokens_per_month": 4000}'::jsonb WHERE id = $1`, [h.users.bob.id]);
    const refused = await chat('Hi', 'bob');
    expect(refused.events.find((e) => e.type === 'error')).toMatchObject({ code: 'QUOTA_3102' });
    expect(field<string>(refused.events.find((e) => e.type === 'error'), 'message')).toMatch(/^This month’s budget is used up; it resets at \d{4}-\d\d-01 00:00 UTC\. \(5,000 of 4,000 tokens used\.\)$/);

    await h.database.db.query(`UPDATE users SET quota = '{"tokens_per_day": null}'::jsonb WHERE id = $1`, [h.users.bob.id]);
    h.fake.enqueue({ steps: [{ type: 'text', deltas: ['Hello, Bob.'] }] });
    expect((await chat('Hi again', 'bob')).events.at(-1)).toMatchObject({ finish_reason: 'stop' });
  });
});

describe('without configured budgets', () => {
  let free: ChatHarness;
  beforeAll(async () => {
    free = await startChatHarness({});
  });
  afterAll(async () => {
    await free?.close();
  });

  async function freeChat(owner: 'alice' | 'bob') {
    const session = await free.createSession(owner);
    const client = await free.connect(session.session_id, { token: owner });
    client.message('Hi');
    return client.turn();
  }

  it('an administrator’s override refuses the user it names, whose turn starts on the shared statement', async () => {
    for (const owner of ['alice', 'bob'] as const) {
      const call = { userId: free.users[owner].id, sessionUuid: null, turnId: null, purpose: 'turn' as const };
      await recordCall(free.database.db, { call, model: 'gpt-4o-mini', provider: 'openai', usage: { inputTokens: 5_000, cachedInputTokens: 0, outputTokens: 0, reasoningTokens: 0 }, prices: undefined });
    }
    await free.database.db.query(`UPDATE users SET quota = '{"tokens_per_day": 1000}'::jsonb WHERE id = $1`, [free.users.bob.id]);
    const requests = free.fake.requests.length;
    const bob = await freeChat('bob');
    expect(bob.find((e) => e.type === 'error')).toMatchObject({ code: 'QUOTA_3101' });
    expect(free.fake.requests.length).toBe(requests);

    free.fake.enqueue({ steps: [{ type: 'text', deltas: ['Hello, Alice.'] }] });
    const alice = await freeChat('alice');
    expect(alice.find((e) => e.type === 'error')).toBeUndefined();
    expect(alice.at(-1)).toMatchObject({ type: 'assistant_end', finish_reason: 'stop' });
  });
});
