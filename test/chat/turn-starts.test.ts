/**
 * Many turns starting at once: the user's rows, their context items and the sessions' counts are
 * written in a few statements, each turn in its own session, as one turn alone writes them; their
 * contexts are read back in a few statements too.
 * PGlite, or PostgreSQL with TEST_DATABASE_URL.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ContextStore, userMessage } from '../../src/chat/context-store.js';
import { MAX_LISTED_FILES, sessionInstructions } from '../../src/chat/instructions.js';
import { insertMessage } from '../../src/chat/message-store.js';
import { insertAfterLeaf } from '../../src/chat/row-inserts.js';
import { startTurnRows } from '../../src/chat/turn-starts.js';
import { AppError } from '../../src/errors/app-error.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';

let database: TestDatabase;
let userId: string;
let n = 0;

beforeAll(async () => {
  database = await createTestDatabase();
  const { rows } = await database.db.query<{ id: string }>("INSERT INTO users (email) VALUES ('starts@example.test') RETURNING id");
  userId = rows[0]?.id ?? '';
});
afterAll(async () => {
  await database?.drop();
});

/** A session whose chat has one question and its answer. */
async function chatWithHistory(): Promise<{ id: string; leaf: string }> {
  n += 1;
  const { db } = database;
  const { rows } = await db.query<{ id: string }>("INSERT INTO sessions (user_id, session_id, model) VALUES ($1, $2, 'gpt-4o') RETURNING id", [userId, `chat_starts_${n}`]);
  const id = rows[0]?.id ?? '';
  const question = await insertMessage(db, id, { role: 'user', content: 'first question' });
  await new ContextStore(db, id).addItems([userMessage('first question')], question.id);
  const answer = await insertMessage(db, id, { role: 'assistant', content: 'first answer' });
  return { id, leaf: answer.id };
}

const req = (sessionUuid: string, text: string, model?: string) => ({ sessionUuid, contents: [text], ...(model ? { model } : {}) });

describe('turns starting at once', () => {
  it('saves 30 questions in at most 3 statements, each after its own chat’s answer, with its context item and the chat counted', async () => {
    const chats = await Promise.all(Array.from({ length: 30 }, () => chatWithHistory()));
    const before = database.statements();
    const sessions = await Promise.all(chats.map((c, i) => startTurnRows(database.db, req(c.id, `question ${i}`, i === 0 ? 'gpt-4.1' : undefined), [userMessage(`question ${i}`)])));
    expect(database.statements() - before).toBeLessThanOrEqual(3);

    // Their turns then read their contexts at once: a few statements, each chat its own items.
    const readsBefore = database.statements();
    const contexts = await Promise.all(chats.map((c) => new ContextStore(database.db, c.id).getItems()));
    expect(database.statements() - readsBefore).toBeLessThanOrEqual(3);
    contexts.forEach((items, i) => expect(items.map((item) => (item as { content: string }).content)).toEqual(['first question', `question ${i}`]));

    for (const [i, chat] of chats.entries()) {
      const session = sessions[i];
      const { rows } = await database.db.query<{ id: string; seq: number; parent_id: string; content: string }>(
        "SELECT id, seq, parent_id, content FROM messages WHERE session_id = $1 AND role = 'user' ORDER BY seq DESC LIMIT 1",
        [chat.id],
      );
      const row = rows[0];
      expect(row).toMatchObject({ seq: 3, parent_id: chat.leaf, content: `question ${i}` });
      expect(session).toMatchObject({ id: chat.id, active_leaf_id: row?.id, message_count: 3, turn_count: 1, model: i === 0 ? 'gpt-4.1' : 'gpt-4o' });
    }
  });

  it('puts a burst of short questions in one statement, and cuts a burst of long ones into several so none holds the database for the whole burst', async () => {
    const burst = async (count: number, question: (i: number) => string) => {
      const chats = await Promise.all(Array.from({ length: count }, () => chatWithHistory()));
      const before = database.statements();
      const sessions = await Promise.all(chats.map((c, i) => startTurnRows(database.db, req(c.id, question(i)), [userMessage(question(i))])));
      sessions.forEach((session, i) => expect(session).toMatchObject({ id: chats[i]?.id, message_count: 3, turn_count: 1 }));
      return database.statements() - before;
    };
    expect(await burst(70, (i) => `burst ${i}`)).toBe(1);
    // A pasted page is indexed for search as it goes in: it weighs more than a short question.
    expect(await burst(30, (i) => `page ${i} `.repeat(110))).toBeGreaterThanOrEqual(2);
  });

  it("brings each chat's own file names for the instructions, so the turn reads none itself", async () => {
    const [busy, empty] = await Promise.all([chatWithHistory(), chatWithHistory()]);
    const names = Array.from({ length: MAX_LISTED_FILES + 5 }, (_, i) => `f${String(i).padStart(2, '0')}.txt`).reverse();
    for (const name of names) await database.db.query("INSERT INTO files (session_id, folder, filename) VALUES ($1, 'input', $2)", [busy.id, name]);
    await database.db.query("INSERT INTO files (session_id, folder, filename) VALUES ($1, 'output', 'a.png')", [busy.id]);
    const [withFiles, without] = await Promise.all([busy, empty].map((c) => startTurnRows(database.db, req(c.id, 'files?'), [userMessage('files?')])));
    expect(withFiles!.listed_files).toEqual(names.slice().reverse().slice(0, MAX_LISTED_FILES + 1).map((name) => `input/${name}`));
    expect(without!.listed_files).toEqual([]);
    const before = database.statements();
    const [text, none] = await Promise.all([sessionInstructions(database.db, withFiles!, false), sessionInstructions(database.db, without!, false)]);
    expect(database.statements()).toBe(before);
    expect(text).toContain('Files in the workspace (first 50): input/f00.txt, ');
    expect(text).toContain(', input/f49.txt.\n');
    expect(none).toContain('The workspace has no files yet.');
  });

  it('says which chats had a context before their question, so a first turn reads none back', async () => {
    n += 1;
    const fresh = (await database.db.query<{ id: string }>("INSERT INTO sessions (user_id, session_id, model) VALUES ($1, $2, 'gpt-4o') RETURNING id", [userId, `chat_starts_${n}`])).rows[0]!.id;
    n += 1;
    // A context item on no message (as an upgraded chat may have) is context all the same.
    const unhung = (await database.db.query<{ id: string }>("INSERT INTO sessions (user_id, session_id, model) VALUES ($1, $2, 'gpt-4o') RETURNING id", [userId, `chat_starts_${n}`])).rows[0]!.id;
    await database.db.query("INSERT INTO llm_context (session_id, seq, item) VALUES ($1, 1, $2)", [unhung, JSON.stringify(userMessage('from before'))]);
    const talked = await chatWithHistory();
    const rows = await Promise.all([fresh, unhung, talked.id].map((id) => startTurnRows(database.db, req(id, 'hello'), [userMessage('hello')])));
    expect(rows.map((r) => r.had_context)).toEqual([false, true, true]);
    // The fresh chat's next question: it has a context now.
    expect((await startTurnRows(database.db, req(fresh, 'again'), [userMessage('again')])).had_context).toBe(true);
  });

  it('ends a chat’s paused turn before saving its question, and asks nothing first of the chats without one', async () => {
    const [paused, plain] = await Promise.all([chatWithHistory(), chatWithHistory()]);
    await database.db.query("INSERT INTO paused_turns (turn_id, session_id, user_id, last_seq, state) VALUES ('turn_paused', $1, $2, 4, 'paused')", [paused.id, userId]);
    const ended: string[] = [];
    // What the approval service does: the paused turn's interrupted call is answered, the pause removed.
    const endPaused = (chat: { id: string }) => async () => {
      ended.push(chat.id);
      await insertMessage(database.db, chat.id, { role: 'tool_call', tool_call_id: 'call_waiting', tool_name: 'run_code', tool_arguments: {}, tool_result: 'Interrupted by a new message', tool_success: false });
      await database.db.query('DELETE FROM paused_turns WHERE session_id = $1', [chat.id]);
    };
    const sessions = await Promise.all(
      [paused, plain].map((c) => startTurnRows(database.db, req(c.id, 'after the pause'), [userMessage('after the pause')], undefined, endPaused(c))),
    );
    expect(ended).toEqual([paused.id]);
    expect(sessions.map((s) => s.message_count)).toEqual([4, 3]);
    const { rows } = await database.db.query<{ role: string }>('SELECT role FROM messages WHERE session_id = $1 ORDER BY seq', [paused.id]);
    expect(rows.map((r) => r.role)).toEqual(['user', 'assistant', 'tool_call', 'user']);
  });

  it('saves two questions to one chat sent at the same moment one after the other, in order', async () => {
    const chat = await chatWithHistory();
    const [first, second] = await Promise.all([
      startTurnRows(database.db, req(chat.id, 'one'), [userMessage('one')]),
      startTurnRows(database.db, req(chat.id, 'two'), [userMessage('two')]),
    ]);
    expect([first?.message_count, second?.message_count]).toEqual([3, 4]);
    const items = await new ContextStore(database.db, chat.id).getItems();
    expect(items.map((item) => (item as { content: string }).content)).toEqual(['first question', 'one', 'two']);
  });

  it('refuses a turn whose chat is gone with SES_4001 and saves the others of the same batch', async () => {
    const [kept, gone] = await Promise.all([chatWithHistory(), chatWithHistory()]);
    await database.db.query('DELETE FROM sessions WHERE id = $1', [gone?.id ?? '']);
    const [ok, refused] = await Promise.allSettled([
      startTurnRows(database.db, req(kept?.id ?? '', 'still here'), [userMessage('still here')]),
      startTurnRows(database.db, req(gone?.id ?? '', 'lost'), [userMessage('lost')]),
    ]);
    expect(ok).toMatchObject({ status: 'fulfilled', value: { id: kept?.id, message_count: 3 } });
    expect(refused).toMatchObject({ status: 'rejected', reason: expect.any(AppError) as unknown });
    expect((refused as PromiseRejectedResult).reason).toMatchObject({ code: 'SES_4001' });
  });

  it('inserts the first rows of 20 answers at once in at most 3 statements, each after its own chat’s leaf, made the leaf', async () => {
    const chats = await Promise.all(Array.from({ length: 20 }, () => chatWithHistory()));
    const before = database.statements();
    const rows = await Promise.all(
      chats.map((c, i) =>
        insertAfterLeaf(database.db, c.id, i % 2 === 0 ? { role: 'assistant', content: `answer ${i}`, reasoning: null } : { role: 'tool_call', tool_call_id: `call_${i}`, tool_name: 'read_file', tool_arguments: { path: `f${i}` } }),
      ),
    );
    expect(database.statements() - before).toBeLessThanOrEqual(3);
    for (const [i, chat] of chats.entries()) {
      const row = rows[i];
      expect(row).toMatchObject({ session_id: chat.id, seq: 3, parent_id: chat.leaf, role: i % 2 === 0 ? 'assistant' : 'tool_call' });
      if (i % 2 === 1) expect(row?.tool_arguments).toEqual({ path: `f${i}` });
      const { rows: session } = await database.db.query<{ active_leaf_id: string; message_count: number }>('SELECT active_leaf_id, message_count FROM sessions WHERE id = $1', [chat.id]);
      expect(session[0]).toEqual({ active_leaf_id: row?.id, message_count: 3 });
    }
  });

  it('inserts finished answers a few at a time, since indexing their text for search is most of the work', async () => {
    const chats = await Promise.all(Array.from({ length: 12 }, () => chatWithHistory()));
    const before = database.statements();
    const answer = (i: number) => `answer ${i} about lighthouses `.repeat(140); // about 4 KB
    await Promise.all(chats.map((c, i) => insertAfterLeaf(database.db, c.id, { role: 'assistant', content: answer(i), reasoning: null })));
    expect(database.statements() - before).toBeGreaterThanOrEqual(3);
  });
});
