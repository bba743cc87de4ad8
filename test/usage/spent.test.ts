/**
 * The budget check's read of what users spent, and the ledger's record of model calls, asked for by
 * many turns at once (one user's many chats among them): a few statements, and each answer what
 * that user alone would get.
 * PGlite, or PostgreSQL with TEST_DATABASE_URL.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readSpent, recordCall } from '../../src/usage/ledger.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';

let database: TestDatabase;
let busy: string;
let idle: string;

beforeAll(async () => {
  database = await createTestDatabase();
  const { db } = database;
  const user = async (email: string) => (await db.query<{ id: string }>('INSERT INTO users (email) VALUES ($1) RETURNING id', [email])).rows[0]?.id ?? '';
  busy = await user('busy@example.test');
  idle = await user('idle@example.test');
  // Today, and the first day of this month when that is another day (UTC).
  await db.query(
    `INSERT INTO usage_daily (user_id, day, tokens, cost) VALUES ($1, (now() AT TIME ZONE 'UTC')::date, 100, 0.5)`,
    [busy],
  );
  await db.query(
    `INSERT INTO usage_daily (user_id, day, tokens, cost) SELECT $1, date_trunc('month', (now() AT TIME ZONE 'UTC')::date)::date, 50, 0.25
     WHERE date_trunc('month', (now() AT TIME ZONE 'UTC')::date)::date <> (now() AT TIME ZONE 'UTC')::date`,
    [busy],
  );
});
afterAll(async () => {
  await database?.drop();
});

describe('what users spent, read by many turns at once', () => {
  it('answers each turn for its own user in at most 3 statements, a user asked for ten times counted once', async () => {
    const alone = await readSpent(database.db, busy);
    const before = database.statements();
    const [busyReads, idleReads, missing] = await Promise.all([
      Promise.all(Array.from({ length: 10 }, () => readSpent(database.db, busy))),
      Promise.all(Array.from({ length: 3 }, () => readSpent(database.db, idle))),
      readSpent(database.db, randomUUID()),
    ]);
    expect(database.statements() - before).toBeLessThanOrEqual(3);
    expect(alone).toMatchObject({ dayTokens: 100, dayCost: 0.5 });
    // On the first of the month the earlier row is today's: the month holds only today's 100.
    expect(alone?.monthTokens).toBe(new Date().getUTCDate() === 1 ? 100 : 150);
    for (const read of busyReads) expect(read).toEqual(alone);
    for (const read of idleReads) expect(read).toMatchObject({ dayTokens: 0, dayCost: 0, monthTokens: 0, monthCost: 0 });
    expect(missing).toBeUndefined();
  });
});

describe('model calls recorded by many turns at once', () => {
  it('records 12 calls of two users in at most 3 statements: each call its row and cost, each user their day once', async () => {
    const prices = { input: '2', cachedInput: '1', output: '8', reasoning: '8' };
    const usage = (n: number) => ({ inputTokens: 1000 * n, cachedInputTokens: 500, outputTokens: 100 * n, reasoningTokens: 50 });
    const call = (userId: string, n: number) => ({
      call: { userId, sessionUuid: null, turnId: `turn_rec_${n}`, purpose: 'turn' as const },
      model: 'gpt-4o-mini',
      provider: 'openai',
      usage: usage(n),
      prices: n % 3 === 0 ? undefined : prices,
    });
    const dayBefore = async (userId: string) => (await readSpent(database.db, userId))?.dayTokens ?? 0;
    const [busyBefore, idleBefore] = [await dayBefore(busy), await dayBefore(idle)];
    const before = database.statements();
    const costs = await Promise.all(Array.from({ length: 12 }, (_, n) => recordCall(database.db, call(n % 2 === 0 ? busy : idle, n + 1))));
    expect(database.statements() - before).toBeLessThanOrEqual(3);
    costs.forEach((cost, n) => {
      const u = usage(n + 1);
      const priced = (n + 1) % 3 !== 0;
      const expected = ((u.inputTokens - 500) * 2 + 500 * 1 + (u.outputTokens - 50) * 8 + 50 * 8) / 1_000_000;
      if (priced) expect(cost).toBeCloseTo(expected, 10);
      else expect(cost).toBeNull();
    });
    const tokens = (ns: number[]) => ns.reduce((sum, n) => sum + usage(n).inputTokens + usage(n).outputTokens, 0);
    expect(await dayBefore(busy)).toBe(busyBefore + tokens([1, 3, 5, 7, 9, 11]));
    expect(await dayBefore(idle)).toBe(idleBefore + tokens([2, 4, 6, 8, 10, 12]));
    const { rows } = await database.db.query<{ n: number }>("SELECT count(*)::int AS n FROM model_calls WHERE turn_id LIKE 'turn_rec_%'");
    expect(rows[0]?.n).toBe(12);
  });
});
