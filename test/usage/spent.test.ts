/**
 * The budget check's read of what users spent, asked for by many turns at once (one user's many
 * chats among them): a few statements, and each answer what that user alone would read.
 * PGlite, or PostgreSQL with TEST_DATABASE_URL.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readSpent } from '../../src/usage/ledger.js';
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
