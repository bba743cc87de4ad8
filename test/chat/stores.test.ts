import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ContextStore, userMessage } from '../../src/chat/context-store.js';
import { sessionInstructions } from '../../src/chat/instructions.js';
import { insertMessage, listMessages, toMessage, type MessageRow } from '../../src/chat/message-store.js';
import { endTurn } from '../../src/chat/turn-end.js';
import { TurnRecorder } from '../../src/chat/turn-recorder.js';
import { AppError } from '../../src/errors/app-error.js';
import { migrate } from '../../src/db/migrate.js';
import type { SessionRow } from '../../src/sessions/types.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';

let database: TestDatabase;
let userId: string;
let n = 0;

beforeAll(async () => {
  database = await createTestDatabase();
  await migrate(database.db);
  const { rows } = await database.db.query<{ id: string }>("INSERT INTO users (email) VALUES ('s@example.test') RETURNING id");
  userId = rows[0]!.id;
});
afterAll(async () => {
  await database?.drop();
});

async function newSession(): Promise<SessionRow> {
  n += 1;
  const { rows } = await database.db.query<SessionRow>("INSERT INTO sessions (user_id, session_id, model) VALUES ($1, $2, 'gpt-4o') RETURNING *", [
    userId,
    `chat_${n.toString(16).padStart(12, '0')}`,
  ]);
  return rows[0]!;
}

describe('llm_context', () => {
  it('keeps items in order and removes the newest ones', async () => {
    const session = await newSession();
    const store = new ContextStore(database.db, session.id);
    await store.addItems([userMessage('one'), userMessage('two')]);
    await store.addItems([]);
    await store.addItems([userMessage('three')]);
    const text = (items: unknown[]) => items.map((i) => (i as { content: string }).content);
    expect(text(await store.getItems())).toEqual(['one', 'two', 'three']);
    await store.removeNewest(0);
    await store.removeNewest(2);
    expect(text(await store.getItems())).toEqual(['one']);
  });

  it('appends of 20 sessions at once go in at most 3 statements, each after its own items; a deleted session fails alone', async () => {
    const sessions = await Promise.all(Array.from({ length: 20 }, () => newSession()));
    await Promise.all(sessions.map((s, i) => new ContextStore(database.db, s.id).addItems([userMessage(`first ${i}`)])));
    const gone = sessions[7]!;
    await database.db.query('DELETE FROM sessions WHERE id = $1', [gone.id]);
    const before = database.statements();
    const results = await Promise.allSettled(sessions.map((s, i) => new ContextStore(database.db, s.id).addItems([userMessage(`second ${i}`), userMessage(`third ${i}`)])));
    expect(database.statements() - before).toBeLessThanOrEqual(3 + sessions.length);
    results.forEach((r, i) => expect(r.status).toBe(i === 7 ? 'rejected' : 'fulfilled'));
    for (const [i, s] of sessions.entries()) {
      if (i === 7) continue;
      const items = await new ContextStore(database.db, s.id).getItems();
      expect(items.map((item) => (item as { content: string }).content)).toEqual([`first ${i}`, `second ${i}`, `third ${i}`]);
    }
  });

  it('appends of 20 sessions at once, all of them there, go in at most 3 statements', async () => {
    const sessions = await Promise.all(Array.from({ length: 20 }, () => newSession()));
    const before = database.statements();
    await Promise.all(sessions.map((s, i) => new ContextStore(database.db, s.id).addItems([userMessage(`only ${i}`)])));
    expect(database.statements() - before).toBeLessThanOrEqual(3);
  });

  it('adding no items does not touch the database', async () => {
    const session = await newSession();
    const store = new ContextStore(database.db, session.id);
    const before = database.statements();
    await store.addItems([]);
    expect(database.statements()).toBe(before);
  });

  it('a function call saved without its output (a crash) comes back with one', async () => {
    const session = await newSession();
    const store = new ContextStore(database.db, session.id);
    await store.addItems([userMessage('run it'), { type: 'function_call', callId: 'c9', name: 'tool', arguments: '{}' }]);
    const items = await store.getItems();
    expect(items.at(-1)).toMatchObject({ type: 'function_call_result', callId: 'c9' });
  });
});

/** Ends a recorder's turn as stopped and waits for its writes. */
async function stop(recorder: TurnRecorder): Promise<void> {
  await recorder.end(endTurn(recorder.open(), { kind: 'stop' }));
  recorder.dispose();
}

describe('the messages display history', () => {
  it('numbers rows in insert order, counts them, and shows the same Message shape everywhere', async () => {
    const session = await newSession();
    await insertMessage(database.db, session.id, { role: 'user', content: 'hi' });
    const row = await insertMessage(database.db, session.id, {
      role: 'tool_call',
      tool_call_id: 'c1',
      tool_name: 'read_file',
      tool_arguments: { path: 'a.txt' },
    });
    expect(toMessage(row)).toMatchObject({ seq: 2, role: 'tool_call', tool_arguments: { path: 'a.txt' }, status: null, partial: false });
    expect(typeof toMessage(row).created_at).toBe('string');
    const { rows } = await database.db.query<{ message_count: number }>('SELECT message_count FROM sessions WHERE id = $1', [session.id]);
    expect(rows[0]!.message_count).toBe(2);
  });

  it('a tool that failed shows as failed, one that succeeded as completed', async () => {
    const session = await newSession();
    const recorder = new TurnRecorder(database.db, session.id, []);
    for (const id of ['ok', 'bad']) {
      recorder.toolDetected(id, 'tool');
      recorder.toolStarted(id, 'tool', '{}');
    }
    expect(recorder.open().calls.map((c) => c.callId)).toEqual(['ok', 'bad']);
    recorder.toolCompleted('ok', 'tool', '{"ok":true}', true, undefined);
    recorder.toolCompleted('bad', 'tool', 'nope', false, undefined);
    expect(recorder.open().calls).toEqual([]);
    await stop(recorder);
    expect((await listMessages(database.db, session.id)).map((m) => m.status)).toEqual(['completed', 'failed']);
  });
});

describe('checkpoints of a streaming answer', () => {
  it('saves the streaming text every 2 s into one row, and no write happens per delta', async () => {
    const session = await newSession();
    const db = database.db;
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    let recorder: TurnRecorder;
    try {
      recorder = new TurnRecorder(db, session.id, []);
      const before = database.statements();
      for (let i = 0; i < 100; i++) recorder.text('a');
      vi.advanceTimersByTime(1_999);
      expect(database.statements()).toBe(before);
      vi.advanceTimersByTime(1);
      for (let i = 0; i < 100; i++) recorder.text('b');
      vi.advanceTimersByTime(2_000);
    } finally {
      vi.useRealTimers();
    }
    await vi.waitFor(async () =>
      expect(await listMessages(db, session.id)).toEqual([
        expect.objectContaining({ role: 'assistant', content: 'a'.repeat(100) + 'b'.repeat(100), partial: true, status: 'interrupted' }),
      ]),
    );
    recorder.text('c');
    await stop(recorder);
    const rows = await listMessages(db, session.id);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ content: 'a'.repeat(100) + 'b'.repeat(100) + 'c', partial: false, status: null });
  });
});

describe('reasoning in the history', () => {
  it('is saved with the checkpoints of the answer it came with, and reasoning with no answer gets an empty row', async () => {
    const session = await newSession();
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    let recorder: TurnRecorder;
    try {
      recorder = new TurnRecorder(database.db, session.id, []);
      recorder.reasoning('');
      recorder.reasoning('Think ');
      recorder.text('An');
      vi.advanceTimersByTime(2_000);
      recorder.reasoning('more.');
      recorder.text('swer');
    } finally {
      vi.useRealTimers();
    }
    await vi.waitFor(async () => expect((await listMessages(database.db, session.id)).map((m) => [m.content, m.reasoning])).toEqual([['An', 'Think ']]));
    recorder.toolDetected('c1', 'lookup');
    recorder.reasoning('Then stop.');
    await stop(recorder);
    const rows = await listMessages(database.db, session.id);
    expect(rows.map((m) => [m.role, m.content, m.reasoning, m.partial])).toEqual([
      ['assistant', 'Answer', 'Think more.', false],
      ['assistant', '', 'Then stop.', false],
    ]);
  });
});

describe('what a history row says about itself', () => {
  const row = (over: Partial<MessageRow>): MessageRow => ({
    id: 'm1',
    session_id: 's1',
    seq: 1,
    parent_id: null,
    role: 'assistant',
    content: 'x',
    metadata: {},
    tool_call_id: null,
    tool_name: null,
    tool_arguments: null,
    tool_result: null,
    tool_success: null,
    reasoning: null,
    created_at: new Date(0),
    ...over,
  });

  it('derives the status from the role, the tool outcome and the partial mark', () => {
    const status = (over: Partial<MessageRow>) => toMessage(row(over)).status;
    expect(status({ role: 'tool_call', metadata: { interrupted: true, status: 'interrupted' }, tool_success: true })).toBe('interrupted');
    expect(status({ role: 'tool_call', metadata: { status: null } })).toBeNull();
    expect(status({ role: 'tool_call', metadata: { status: 'interrupted' } })).toBe('interrupted');
    expect(status({ role: 'tool_call', tool_success: true })).toBe('completed');
    expect(status({ role: 'tool_call', tool_success: false })).toBe('failed');
    expect(status({ role: 'assistant', metadata: { partial: true, status: 'failed' } })).toBe('failed');
    expect(status({ role: 'assistant', metadata: { partial: true } })).toBe('interrupted');
    expect(status({ role: 'assistant', metadata: { status: 'failed' } })).toBeNull();
    expect(status({ role: 'user', metadata: { interrupted: true, partial: true, status: 'failed' } })).toBeNull();
    expect(toMessage(row({ metadata: null }))).toMatchObject({ partial: false, status: null, created_at: '1970-01-01T00:00:00.000Z' });
  });

  it('keeps a tool result and outcome given at insert', async () => {
    const session = await newSession();
    const saved = await insertMessage(database.db, session.id, { role: 'tool_call', tool_call_id: 'c1', tool_name: 't', tool_result: 'done', tool_success: false });
    expect(toMessage(saved)).toMatchObject({ tool_result: 'done', tool_success: false, status: 'failed' });
  });
});

describe('a turn recorder', () => {
  it('saves nothing for empty text, and ends a partial answer as interrupted or failed', async () => {
    const session = await newSession();
    const stopped = new TurnRecorder(database.db, session.id, []);
    stopped.text('');
    expect(stopped.open().openText).toBeUndefined();
    stopped.text('stopped');
    expect(stopped.open()).toMatchObject({ openText: 'stopped', unsaid: 'stopped' });
    await stopped.end(endTurn(stopped.open(), { kind: 'interrupted' }));
    const broken = new TurnRecorder(database.db, session.id, []);
    broken.text('broken');
    await broken.end(endTurn(broken.open(), { kind: 'error', error: new AppError('EXT_7010'), requestId: 'r' }));
    expect((await listMessages(database.db, session.id)).map((m) => [m.content, m.partial, m.status])).toEqual([
      ['stopped', true, 'interrupted'],
      ['broken', true, 'failed'],
    ]);
    // The cut text reached the context, marked.
    expect(JSON.stringify(await new ContextStore(database.db, session.id).getItems())).toMatch(/stopped\\n\\n\[interrupted by the user\].*broken\\n\\n\[interrupted by an error\]/);
  });

  it('records each tool call once, completes it once, and ends an open one as interrupted', async () => {
    const session = await newSession();
    const recorder = new TurnRecorder(database.db, session.id, []);
    expect(recorder.toolDetected('c1', 'read_file')).toBe(true);
    expect(recorder.toolDetected('c1', 'read_file')).toBe(false);
    recorder.toolDetected('c2', 'slow');
    expect(recorder.toolStarted('c1', 'read_file', '{"path":"a"}')).toEqual({ path: 'a' });
    expect(recorder.toolStarted('c1', 'read_file', '{"path":"b"}')).toBeUndefined();
    expect(recorder.toolStarted('c3', 'never_seen', '{}')).toBeUndefined();
    recorder.toolStarted('c2', 'slow', undefined);
    expect(recorder.toolCompleted('c1', 'read_file', 'first', true, undefined)).toBe('read_file');
    expect(recorder.toolCompleted('c1', 'read_file', 'second', false, undefined)).toBeUndefined();
    expect(recorder.toolCompleted('unknown', 'stray', 'x', true, undefined)).toBe('stray');
    await recorder.end(endTurn(recorder.open(), { kind: 'interrupted' }));
    const rows = await listMessages(database.db, session.id);
    expect(rows.map((m) => [m.tool_call_id, m.tool_arguments, m.tool_result, m.tool_success, m.status])).toEqual([
      ['c1', { path: 'a' }, 'first', true, 'completed'],
      ['c2', {}, 'Interrupted by the user before the tool returned.', false, 'interrupted'],
    ]);
  });

  it('a checkpoint saves a one-character answer as partial, and skips a save when nothing changed', async () => {
    const session = await newSession();
    const db = database.db;
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const recorder = new TurnRecorder(db, session.id, []);
    try {
      const before = database.statements();
      recorder.text('x');
      vi.advanceTimersByTime(2_000);
      vi.advanceTimersByTime(2_000);
      // The turn is over: no checkpoint timer is left behind.
      const timers = vi.getTimerCount();
      recorder.dispose();
      expect(vi.getTimerCount()).toBe(timers - 1);
      await recorder.end(endTurn(recorder.open(), { kind: 'interrupted' }));
      // The first checkpoint's insert, then the end's update and context item; the second
      // checkpoint had nothing new to save.
      expect(database.statements() - before).toBe(3);
    } finally {
      vi.useRealTimers();
    }
    expect((await listMessages(db, session.id)).map((m) => [m.content, m.partial, m.status])).toEqual([['x', true, 'interrupted']]);
  });

  it('a failed write does not stop the later ones, and the end reports the first failure', async () => {
    const recorder = new TurnRecorder(database.db, '00000000-0000-0000-0000-000000000000', []);
    recorder.text('lost');
    recorder.toolDetected('c1', 't');
    recorder.toolStarted('c1', 't', '{}');
    const failure = await recorder.end(endTurn(recorder.open(), { kind: 'stop' })).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(failure).toBeInstanceOf(Error);
    expect(String(failure)).toMatch(/foreign key|violates/);
    // The first failure stays the one reported.
    await expect(recorder.end(endTurn(recorder.open(), { kind: 'stop' }))).rejects.toBe(failure);
  });
});

describe('the instructions of a session', () => {
  const addFiles = async (session: SessionRow, names: Array<[string, string]>) => {
    for (const [folder, filename] of names) {
      await database.db.query('INSERT INTO files (session_id, folder, filename) VALUES ($1, $2, $3)', [session.id, folder, filename]);
    }
  };

  it("list the session's own files in folder and name order, with its MCP servers", async () => {
    const session = await newSession();
    const other = await newSession();
    await addFiles(session, [['output', 'chart.png'], ['input', 'b.csv'], ['input', 'a.csv']]);
    await addFiles(other, [['input', 'secret.txt']]);
    await database.db.query('UPDATE sessions SET mcp_config = $2 WHERE id = $1', [session.id, JSON.stringify(['fs'])]);
    const text = await sessionInstructions(database.db, { ...session, mcp_config: ['fs'] }, false);
    expect(text).toContain('\nFiles in the workspace: input/a.csv, input/b.csv, output/chart.png.\n');
    expect(text).toContain('\nTools from these MCP servers are available: fs.\n');
    expect(text).not.toContain('secret');
    expect(text).not.toContain('execute_python_code');
  });

  it('name at most the first 50 files and say there are more; exactly 50 are all of them', async () => {
    const session = await newSession();
    await addFiles(session, Array.from({ length: 50 }, (_, i) => ['input', `f${String(i).padStart(2, '0')}.txt`] as [string, string]));
    const fifty = await sessionInstructions(database.db, session, true);
    expect(fifty).toContain('Files in the workspace: input/f00.txt, ');
    expect(fifty).toContain(', input/f49.txt.\n');
    expect(fifty).toContain('execute_python_code');
    expect(fifty).not.toContain('MCP servers');

    await addFiles(session, [['output', 'z.txt']]);
    const more = await sessionInstructions(database.db, session, true);
    expect(more).toContain('Files in the workspace (first 50): input/f00.txt, ');
    expect(more).toContain(', input/f49.txt.\n');
    expect(more).not.toContain('z.txt');
  });

  it('of 20 sessions asked for at once are read in at most 3 statements, each listing only its own files', async () => {
    const sessions = await Promise.all(Array.from({ length: 20 }, () => newSession()));
    for (const [i, session] of sessions.entries()) if (i % 4 !== 0) await addFiles(session, [['input', `only-${i}.txt`], ['output', `out-${i}.png`]]);
    const before = database.statements();
    const texts = await Promise.all(sessions.map((session) => sessionInstructions(database.db, session, false)));
    expect(database.statements() - before).toBeLessThanOrEqual(3);
    texts.forEach((text, i) => {
      if (i % 4 === 0) expect(text).toContain('The workspace has no files yet.');
      else expect(text).toContain(`\nFiles in the workspace: input/only-${i}.txt, output/out-${i}.png.\n`);
    });
  });
});
