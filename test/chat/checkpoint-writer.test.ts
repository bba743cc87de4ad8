/**
 * Streaming text saved by many turns at once: their saves go together in a few UPDATEs, and each
 * row gets its own text, flags and reasoning. PGlite, or PostgreSQL with TEST_DATABASE_URL.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { saveText } from '../../src/chat/checkpoint-writer.js';
import { insertMessage } from '../../src/chat/message-store.js';
import { DONE, STREAMING } from '../../src/chat/row-flags.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';

let database: TestDatabase;
const rows: string[] = [];

beforeAll(async () => {
  database = await createTestDatabase();
  const { db } = database;
  const user = await db.query<{ id: string }>("INSERT INTO users (email) VALUES ('saves@example.test') RETURNING id");
  for (let i = 0; i < 40; i++) {
    const session = await db.query<{ id: string }>("INSERT INTO sessions (user_id, session_id, model) VALUES ($1, $2, 'gpt-4o') RETURNING id", [user.rows[0]?.id ?? '', `chat_saves_${i}`]);
    const row = await insertMessage(db, session.rows[0]?.id ?? '', { role: 'assistant', content: '', metadata: STREAMING, reasoning: null });
    rows.push(row.id);
  }
});
afterAll(async () => {
  await database?.drop();
});

describe('text saves of many streams', () => {
  it('saves 40 rows at once in at most 3 statements, each with its own text, flags and reasoning', async () => {
    const before = database.statements();
    const text = (i: number) => `answer ${i}: naïve “quotes”, a comma, {braces} and "double" \\ back\nslash 🙂`;
    await Promise.all(
      rows.map((rowId, i) =>
        saveText(database.db, { rowId, content: text(i), flags: i % 2 === 0 ? STREAMING : DONE, reasoning: i % 3 === 0 ? null : `thought ${i}` }),
      ),
    );
    expect(database.statements() - before).toBeLessThanOrEqual(3);
    const { rows: saved } = await database.db.query<{ id: string; content: string; metadata: Record<string, unknown>; reasoning: string | null }>(
      'SELECT id, content, metadata, reasoning FROM messages WHERE id = ANY($1::uuid[])',
      [rows],
    );
    const byId = new Map(saved.map((r) => [r.id, r]));
    rows.forEach((rowId, i) => {
      expect(byId.get(rowId)).toMatchObject({ content: text(i), metadata: i % 2 === 0 ? STREAMING : DONE, reasoning: i % 3 === 0 ? null : `thought ${i}` });
    });
  });
});

describe('finished answers', () => {
  it('are saved a few at a time, since indexing their text for search is most of the work: no statement holds the event loop for them all', async () => {
    const twelve = rows.slice(0, 12);
    const text = (i: number) => `answer ${i} about lighthouses `.repeat(140); // about 4 KB
    const saveAll = async (flags: typeof STREAMING) => {
      const before = database.statements();
      await Promise.all(twelve.map((rowId, i) => saveText(database.db, { rowId, content: text(i), flags, reasoning: null })));
      return database.statements() - before;
    };
    expect(await saveAll(STREAMING)).toBe(1);
    expect(await saveAll(DONE)).toBeGreaterThanOrEqual(3);
    const { rows: found } = await database.db.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM messages WHERE id = ANY($1::uuid[]) AND search_vector @@ to_tsquery('english', 'lighthouses')",
      [twelve],
    );
    expect(found[0]?.n).toBe(12);
  });
});

describe('rewrites of growing rows', () => {
  it('leave room on their pages, so many rewrites of a burst of streaming rows stay in place (HOT updates)', async () => {
    const { db } = database;
    const session = await db.query<{ id: string }>("INSERT INTO sessions (user_id, session_id, model) SELECT user_id, 'chat_hot', 'gpt-4o' FROM sessions LIMIT 1 RETURNING id");
    // A thousand streams starting together: their rows are written one after another, filling pages.
    const inserted = await db.query<{ id: string }>(
      `INSERT INTO messages (session_id, seq, role, content, metadata)
       SELECT $1::uuid, g, 'assistant', repeat('a', 200), $2::jsonb FROM generate_series(1, 400) g RETURNING id`,
      [session.rows[0]?.id ?? '', JSON.stringify(STREAMING)],
    );
    const hot = await db.transaction(async (tx) => {
      for (const length of [260, 320]) {
        for (const { id } of inserted.rows) await saveText(tx, { rowId: id, content: 'b'.repeat(length), flags: STREAMING, reasoning: null });
      }
      const { rows } = await tx.query<{ hot: number }>("SELECT pg_stat_get_xact_tuples_hot_updated('messages'::regclass)::int AS hot");
      return rows[0]?.hot ?? 0;
    });
    // 800 rewrites: about 160 stay on their page with a fifth of it kept free, 4 with full pages.
    expect(hot).toBeGreaterThan(100);
  });
});
