/**
 * The context of one path of a conversation tree, from the database: the items hung on the
 * path's messages (and on none), the path's newest summary in front of what it does not cover,
 * and rows written the way an import writes them (each item on the row it belongs to). A
 * session's active path is read in full once, then as what was added since: after every kind of
 * change the kept read answers exactly what a full read answers — a turn, a branch switch (away,
 * and back to a branch written earlier), items taken back, a summary hung on an earlier message,
 * and items written through another connection (another server). The kept items are shared by
 * every reader, so they are read-only.
 */
import type { AgentInputItem } from '@openai/agents';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ContextStore, contextOfPath, pathContextRows, userMessage, type ContextRow } from '../../src/chat/context-store.js';
import { AFTER_LEAF, insertMessage } from '../../src/chat/message-store.js';
import type { Queryable } from '../../src/db/database.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';

let database: TestDatabase;
let userId: string;
let n = 0;

beforeAll(async () => {
  database = await createTestDatabase();
  const { rows } = await database.db.query<{ id: string }>("INSERT INTO users (email) VALUES ('paths@example.test') RETURNING id");
  userId = rows[0]!.id;
});
afterAll(async () => {
  await database?.drop();
});

async function newSession(): Promise<string> {
  n += 1;
  const { rows } = await database.db.query<{ id: string }>("INSERT INTO sessions (user_id, session_id, model) VALUES ($1, $2, 'gpt-4o') RETURNING id", [
    userId,
    `chat_a${n.toString(16).padStart(11, '0')}`,
  ]);
  return rows[0]!.id;
}

const answer = (text: string): AgentInputItem => ({ type: 'message', role: 'assistant', status: 'completed', content: [{ type: 'output_text', text }] });
const textOf = (items: AgentInputItem[]) =>
  items.map((i) => {
    const content = (i as { content: unknown }).content;
    return typeof content === 'string' ? content : (content as Array<{ text: string }>)[0]!.text;
  });

/** Question `q` with two answers (the second a regenerate beside the first, and the active leaf), each with its item. */
async function questionAnsweredTwice(s: string, one: string, two: string) {
  const db = database.db;
  const store = new ContextStore(db, s);
  const q = await insertMessage(db, s, { role: 'user', content: 'q' });
  await store.addItems([userMessage('q')], q.id);
  const first = await insertMessage(db, s, { role: 'assistant', content: one });
  await store.addItems([answer(one)]);
  const second = await insertMessage(db, s, { role: 'assistant', content: two }, { parentId: q.id });
  await store.addItems([answer(two)]);
  return { q, first, second };
}

describe('the context of a path', () => {
  it('holds the items of its own messages only, and an item hung on no message on every path', async () => {
    const s = await newSession();
    const db = database.db;
    const store = new ContextStore(db, s);
    await store.addItems([{ type: 'message', role: 'system', content: 'everywhere' }]);
    const { q, first: a1, second: a2 } = await questionAnsweredTwice(s, 'a1', 'a2');

    expect(textOf(await store.getItems(a1.id))).toEqual(['everywhere', 'q', 'a1']);
    expect(textOf(await store.getItems(a2.id))).toEqual(['everywhere', 'q', 'a2']);
    // The newest row is the active leaf.
    expect(textOf(await store.getItems())).toEqual(['everywhere', 'q', 'a2']);
    expect(a2.parent_id).toBe(q.id);
    expect(AFTER_LEAF).toEqual({ follow: 'leaf' });
  });

  it('starts from the path’s newest summary and keeps only what comes after it', () => {
    const row = (seq: number, text: string, through: number | null = null): ContextRow => ({ seq, item: userMessage(text), message_id: 'm', summary_through_seq: through });
    const rows = [row(1, 'one'), row(2, 'two'), row(3, 'three'), row(4, 'four'), row(5, 'S1', 2), row(6, 'five'), row(7, 'S2', 4)];
    expect(textOf(contextOfPath(rows).map((r) => r.item))).toEqual(['S2', 'five']);
    expect(textOf(contextOfPath(rows.slice(0, 6)).map((r) => r.item))).toEqual(['S1', 'three', 'four', 'five']);
    expect(textOf(contextOfPath(rows.slice(0, 4)).map((r) => r.item))).toEqual(['one', 'two', 'three', 'four']);
  });

  it('reads an imported tree: each item on its own row, a tool row with its call and result, a branch elsewhere', async () => {
    const s = await newSession();
    const db = database.db;
    const row = async (parent: string | null, role: 'user' | 'assistant' | 'tool_call', content: string | null) =>
      (await insertMessage(db, s, { role, content }, { parentId: parent })).id;
    const item = async (seq: number, messageId: string, value: AgentInputItem) =>
      db.query('INSERT INTO llm_context (session_id, seq, item, message_id) VALUES ($1, $2, $3, $4)', [s, seq, value as unknown as Record<string, unknown>, messageId]);
    const u1 = await row(null, 'user', 'list files');
    const tool = await row(u1, 'tool_call', null);
    const a1 = await row(tool, 'assistant', 'none');
    const a1b = await row(u1, 'assistant', 'other branch');
    await item(1, u1, userMessage('list files'));
    await item(2, tool, { type: 'function_call', callId: 'c1', name: 'list', arguments: '{}', status: 'completed' });
    await item(3, tool, { type: 'function_call_result', callId: 'c1', name: 'list', status: 'completed', output: { type: 'text', text: '[]' } });
    await item(4, a1, answer('none'));
    await item(5, a1b, answer('other branch'));
    await db.query('UPDATE sessions SET active_leaf_id = $2 WHERE id = $1', [s, a1]);

    const items = (await pathContextRows(db, s)).map((r) => r.item);
    expect(items.map((i) => (i as { type: string }).type)).toEqual(['message', 'function_call', 'function_call_result', 'message']);
    expect(JSON.stringify(items)).not.toContain('other branch');
    expect(textOf(await new ContextStore(db, s).getItems(a1b))).toEqual(['list files', 'other branch']);
  });
});

/** A connection of its own over the test database, recording the statements it sends. */
function connection(): Queryable & { sent: string[] } {
  const sent: string[] = [];
  return {
    sent,
    query: (sql, params) => {
      sent.push(sql);
      return database.db.query(sql, params);
    },
  };
}

/** The session's active path read with nothing kept: what the database holds now. */
const fullRead = (session: string) => pathContextRows(connection(), session);

/** One question and its answer after the active leaf, as a turn writes them. */
async function turn(db: Queryable, session: string, words: string): Promise<void> {
  const store = new ContextStore(db, session);
  const q = await insertMessage(db, session, { role: 'user', content: words });
  await store.addItems([userMessage(words)], q.id);
  await insertMessage(db, session, { role: 'assistant', content: `re: ${words}` });
  await store.addItems([answer(`re: ${words}`)]);
}

describe('the kept read of an active path', () => {
  it('reads only what a turn added, and answers what a full read answers', async () => {
    const s = await newSession();
    const server = connection();
    await turn(database.db, s, 'one');
    expect(await pathContextRows(server, s)).toEqual(await fullRead(s));
    for (const words of ['two', 'three']) {
      await turn(database.db, s, words);
      const before = server.sent.length;
      const kept = await pathContextRows(server, s);
      // One statement: the delta, checked in the database (no full read after it).
      expect(server.sent.slice(before)).toHaveLength(1);
      expect(server.sent.at(-1)).toContain('segment');
      expect(kept).toEqual(await fullRead(s));
    }
    expect(textOf((await pathContextRows(server, s)).map((r) => r.item))).toEqual(['one', 're: one', 'two', 're: two', 'three', 're: three']);
  });

  it('keeps its items read-only: a reader that changes what it was given cannot change the next read', async () => {
    const s = await newSession();
    const server = connection();
    await turn(database.db, s, 'one');
    const first = await pathContextRows(server, s);
    const item = first[0]!.item as { content: unknown };
    expect(() => {
      item.content = 'changed';
    }).toThrow(TypeError);
    expect(() => (first[1]!.item as unknown as { content: unknown[] }).content.push('more')).toThrow(TypeError);
    await turn(database.db, s, 'two');
    expect(textOf((await pathContextRows(server, s)).map((r) => r.item))).toEqual(['one', 're: one', 'two', 're: two']);
    expect(await pathContextRows(server, s)).toEqual(await fullRead(s));
  });

  it('follows a branch switch away and back to a branch written earlier, in seq order', async () => {
    const s = await newSession();
    const server = connection();
    const db = database.db;
    const store = new ContextStore(db, s);
    const { first, second } = await questionAnsweredTwice(s, 'first', 'second');
    expect(textOf((await pathContextRows(server, s)).map((r) => r.item))).toEqual(['q', 'second']);

    await db.query('UPDATE sessions SET active_leaf_id = $2 WHERE id = $1', [s, first.id]);
    expect(textOf((await pathContextRows(server, s)).map((r) => r.item))).toEqual(['q', 'first']);
    expect(await pathContextRows(server, s)).toEqual(await fullRead(s));

    // Back to a leaf under the kept one's parent, then a follow-up after it written earlier.
    const follow = await insertMessage(db, s, { role: 'user', content: 'after second' }, { parentId: second.id });
    await store.addItems([userMessage('after second')], follow.id);
    await db.query('UPDATE sessions SET active_leaf_id = $2 WHERE id = $1', [s, second.id]);
    // An item on no message, written after the follow-up: every path has it, after the follow-up.
    await store.addItems([{ type: 'message', role: 'system', content: 'everywhere' }], undefined);
    await db.query('UPDATE llm_context SET message_id = NULL WHERE session_id = $1 AND seq = (SELECT MAX(seq) FROM llm_context WHERE session_id = $1)', [s]);
    expect(textOf((await pathContextRows(server, s)).map((r) => r.item))).toEqual(['q', 'second', 'everywhere']);
    await db.query('UPDATE sessions SET active_leaf_id = $2 WHERE id = $1', [s, follow.id]);
    expect(textOf((await pathContextRows(server, s)).map((r) => r.item))).toEqual(['q', 'second', 'after second', 'everywhere']);
    expect(await pathContextRows(server, s)).toEqual(await fullRead(s));
  });

  it('sees items taken back, a summary on an earlier message and another connection’s writes', async () => {
    const s = await newSession();
    const server = connection();
    const other = connection();
    await turn(database.db, s, 'one');
    await turn(database.db, s, 'two');
    await pathContextRows(server, s);

    // A refused turn takes its question back out.
    const store = new ContextStore(database.db, s);
    await store.addItems([userMessage('refused')]);
    await pathContextRows(server, s);
    await store.removeNewest(1);
    expect(textOf((await pathContextRows(server, s)).map((r) => r.item))).toEqual(['one', 're: one', 'two', 're: two']);

    // A summary hangs on the last message it covers, which is not the newest.
    const { rows } = await database.db.query<{ id: string; seq: number }>("SELECT message_id AS id, seq FROM llm_context WHERE session_id = $1 AND item->>'role' = 'assistant' ORDER BY seq LIMIT 1", [s]);
    await database.db.query(
      `INSERT INTO llm_context (session_id, seq, item, message_id, summary_through_seq)
       SELECT $1, MAX(seq) + 1, $2::jsonb, $3, $4 FROM llm_context WHERE session_id = $1`,
      [s, JSON.stringify({ type: 'message', role: 'system', content: 'Summary of one' }), rows[0]!.id, rows[0]!.seq],
    );
    expect(textOf((await pathContextRows(server, s)).map((r) => r.item))).toEqual(['Summary of one', 'two', 're: two']);

    // Another server answers a turn; this one's kept read still matches the database.
    await turn(other, s, 'three');
    expect(textOf((await pathContextRows(server, s)).map((r) => r.item))).toEqual(['Summary of one', 'two', 're: two', 'three', 're: three']);
    expect(await pathContextRows(server, s)).toEqual(await fullRead(s));
  });
});
