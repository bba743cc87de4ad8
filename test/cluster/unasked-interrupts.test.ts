/**
 * No turn ends `interrupted` unless a person, a newer message or a shutdown asked: two servers in
 * this process on one PostgreSQL. A late interrupt aimed at an earlier turn of the chat leaves the
 * newer turn alone; a server never ends its own live turn as a dead server's; the end of a dead
 * server's turn nobody saw start is not sent to connections as a new turn; a turn that cannot
 * take (or keep) its session lock ends with `error` `DB_8003` and its message is kept.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHANNEL } from '../../src/cluster/wire.js';
import { apiClient } from '../support/api.js';
import { createMigratedPostgresDatabase, sharedPostgresDatabase, TEST_DATABASE_URL, type TestDatabase } from '../support/database.js';
import { startFakeOpenAI, type FakeOpenAI, type RecordedRequest } from '../support/fake-openai.js';
import { fakeModelEnv } from '../support/pulp-process.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { deltasOf, ended, openChat, type ChatClient, type Event } from './support.js';

if (!TEST_DATABASE_URL) console.log('test/cluster: skipped — several servers need PostgreSQL (set TEST_DATABASE_URL)');

const LONG = Array.from({ length: 200 }, (_, i) => `l${i} `);

function lastUser(req: RecordedRequest): string {
  const messages = (req.body.messages ?? []) as Array<{ role: string; content: unknown }>;
  const user = messages.filter((m) => m.role === 'user').at(-1);
  return typeof user?.content === 'string' ? user.content : JSON.stringify(user?.content ?? '');
}

const endOf = (events: Event[], turnId: string) => events.find((e) => e.type === 'assistant_end' && e.turn_id === turnId);

describe.skipIf(!TEST_DATABASE_URL)('turns end interrupted only when asked, two servers in one process', () => {
  let fake: FakeOpenAI;
  let url: string;
  let drop: () => Promise<void>;
  let s1: TestServer;
  let s2: TestServer;
  let admin: pg.Client;
  const clients: ChatClient[] = [];

  const database = (): TestDatabase => sharedPostgresDatabase(url);

  beforeAll(async () => {
    fake = await startFakeOpenAI();
    fake.setHandler((req) =>
      lastUser(req).startsWith('long') ? { steps: [{ type: 'pace', ms: 20 }, { type: 'text', deltas: LONG }] } : { steps: [{ type: 'text', deltas: ['ok ', `(${lastUser(req)})`] }] },
    );
    ({ url, drop } = await createMigratedPostgresDatabase());
    const env = { DATABASE_URL: url, ...fakeModelEnv(fake.baseUrl) };
    s1 = await startTestServer(env, { database: database() });
    s2 = await startTestServer({ ...env, DATA_DIR: s1.dataDir }, { database: database() });
    admin = new pg.Client({ connectionString: url });
    await admin.connect();
  }, 60_000);

  afterAll(async () => {
    for (const c of clients) c.close();
    await admin?.end();
    await s1?.close();
    await s2?.close();
    await drop?.();
    await fake?.close();
  });

  const open = async (server: TestServer, sessionId: string) => {
    const c = await openChat(server.baseUrl, sessionId);
    clients.push(c);
    return c;
  };
  const session = async () => {
    const { session_id: publicId } = (await apiClient(s1.baseUrl)('POST', '/sessions', { title: 't' })).body as { session_id: string };
    const uuid = (await admin.query<{ id: string }>('SELECT id FROM sessions WHERE session_id = $1', [publicId])).rows[0]!.id;
    return { publicId, uuid };
  };
  const serverId = async (server: TestServer) => ((await apiClient(server.baseUrl)('GET', '/health')).body as { cluster: { server_id: string } }).cluster.server_id;
  const messagesOf = async (publicId: string) =>
    (await apiClient(s2.baseUrl)('GET', `/sessions/${publicId}`)).body.messages as Array<{ role: string; content: string; partial: boolean }>;

  it('a late interrupt aimed at an earlier turn of the chat does not stop its newer turn', { timeout: 30_000 }, async () => {
    const { publicId, uuid } = await session();
    const c = await open(s1, publicId);
    c.send({ type: 'message', messages: [{ content: 'long answer' }] });
    await c.until((ev) => deltasOf(ev) >= 3);
    const turnId = c.events.find((e) => e.type === 'assistant_start')!.turn_id!;
    // What a server that waited for an earlier turn of this chat repeats, arriving late; a session
    // event in the same payload shows the client when the server has handled the line before it.
    const stale = JSON.stringify({ t: 'interrupt', s: uuid, turn: 'turn_earlier', reason: 'new_message' });
    const marker = JSON.stringify({ type: 'session_updated', title: 'marker', session_id: publicId });
    await admin.query('SELECT pg_notify($1, $2)', [CHANNEL, `P1 gone-server 0\nc ${stale}\ne ${uuid} ${marker}`]);
    await c.until((ev) => ev.some((e) => e.type === 'session_updated'));
    await c.until(ended(turnId));
    expect(c.events.some((e) => e.type === 'stream_interrupted')).toBe(false);
    expect(endOf(c.events, turnId)?.finish_reason).toBe('stop');
  });

  it("a server never ends its own live turn as a dead server's", { timeout: 30_000 }, async () => {
    const { publicId, uuid } = await session();
    // A turn of s1 still open when its next turn of the chat starts (the previous one outlived the
    // 30 s a turn waits for it): it belongs to a live server, so nobody may end it as an orphan.
    await admin.query(`INSERT INTO chat_turns (turn_id, session_id, server_id) VALUES ('turn_own_live', $1, $2)`, [uuid, await serverId(s1)]);
    try {
      const c = await open(s1, publicId);
      c.send({ type: 'message', messages: [{ content: 'hello' }] });
      await c.until((ev) => ev.some((e) => e.type === 'assistant_end' && e.turn_id !== 'turn_own_live'));
      expect(c.events.filter((e) => e.turn_id === 'turn_own_live')).toEqual([]);
      const { rows } = await admin.query('SELECT 1 FROM chat_turns WHERE turn_id = $1 AND ended_at IS NULL', ['turn_own_live']);
      expect(rows).toHaveLength(1);
    } finally {
      await admin.query(`DELETE FROM chat_turns WHERE turn_id = 'turn_own_live'`);
    }
  });

  it("the end of a dead server's turn no client saw start is only logged: the chat's connections hear their own turn alone", { timeout: 30_000 }, async () => {
    const { publicId, uuid } = await session();
    const c = await open(s1, publicId);
    // A server killed right after recording its turn, before any event of it reached the log.
    await admin.query(`INSERT INTO chat_turns (turn_id, session_id, server_id) VALUES ('turn_unseen', $1, 'gone-server')`, [uuid]);
    c.send({ type: 'message', messages: [{ content: 'hello again' }] });
    await c.until((ev) => ev.some((e) => e.type === 'assistant_end' && e.turn_id !== 'turn_unseen'));
    const own = c.events.find((e) => e.type === 'assistant_start')!.turn_id;
    expect(own).not.toBe('turn_unseen');
    expect(new Set(c.events.filter((e) => e.turn_id).map((e) => e.turn_id))).toEqual(new Set([own]));
    expect(c.events.at(-1)).toMatchObject({ type: 'assistant_end', finish_reason: 'stop' });
    // A client of the dead server that did hear it start finds its end with `resume`.
    const late = await open(s2, publicId);
    late.send({ type: 'resume', turn_id: 'turn_unseen', after_seq: 0 });
    await late.until(ended('turn_unseen'));
    // (The chat's own turn may still reach this new connection through the other server's NOTIFY.)
    const unseen = late.events.filter((e) => e.turn_id === 'turn_unseen');
    expect(unseen.map((e) => `${e.seq}:${e.type}:${e.finish_reason ?? ''}`)).toEqual(['1:assistant_start:', '2:assistant_end:interrupted']);
  });

  it('a turn that cannot take its session lock ends with error DB_8003, and its message is kept for the next turn', { timeout: 30_000 }, async () => {
    const { publicId, uuid } = await session();
    // Recording the turn fails (a real database error, raised by a trigger), so the lock is not taken.
    await admin.query(`CREATE OR REPLACE FUNCTION pulp_test_refuse_turn() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN RAISE EXCEPTION 'refused by the test'; END $$`);
    await admin.query(`CREATE TRIGGER pulp_test_refuse_turn BEFORE INSERT ON chat_turns FOR EACH ROW
      WHEN (NEW.session_id = '${uuid}') EXECUTE FUNCTION pulp_test_refuse_turn()`);
    const c = await open(s1, publicId);
    try {
      c.send({ type: 'message', messages: [{ content: 'first words' }] });
      await c.until(ended());
    } finally {
      await admin.query('DROP TRIGGER pulp_test_refuse_turn ON chat_turns');
      await admin.query('DROP FUNCTION pulp_test_refuse_turn()');
    }
    const turn = c.events.filter((e) => e.turn_id);
    expect(turn.map((e) => e.type)).toEqual(['assistant_start', 'token_usage', 'error', 'assistant_end']);
    expect(turn[2]).toMatchObject({ code: 'DB_8003', recoverable: true });
    expect(turn[3]!.finish_reason).toBe('error');
    expect(fake.requests.some((r) => lastUser(r) === 'first words')).toBe(false);

    c.send({ type: 'message', messages: [{ content: 'second words' }] });
    await c.until((ev) => ev.filter((e) => e.type === 'assistant_end').length === 2);
    expect(c.events.filter((e) => e.type === 'assistant_end').at(-1)?.finish_reason).toBe('stop');
    const call = fake.requests.find((r) => lastUser(r) === 'second words')!;
    expect(JSON.stringify(call.body.messages)).toContain('first words');
    expect((await messagesOf(publicId)).map((m) => `${m.role}:${m.content}`)).toEqual(['user:first words', 'user:second words', 'assistant:ok (second words)']);
  });

  it('a turn whose lock connection is lost ends with error DB_8003, keeps its partial, and the session goes on', { timeout: 30_000 }, async () => {
    const { publicId } = await session();
    const c = await open(s1, publicId);
    c.send({ type: 'message', messages: [{ content: 'long talk' }] });
    await c.until((ev) => deltasOf(ev) >= 5);
    await admin.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name LIKE 'pulp-locks-%' AND datname = current_database()`);
    await c.until(ended());
    expect(c.events.some((e) => e.type === 'stream_interrupted')).toBe(false);
    expect(c.events.find((e) => e.type === 'error')).toMatchObject({ code: 'DB_8003', recoverable: true });
    expect(c.events.find((e) => e.type === 'assistant_end')?.finish_reason).toBe('error');
    c.send({ type: 'message', messages: [{ content: 'still there?' }] });
    await c.until((ev) => ev.filter((e) => e.type === 'assistant_end').length === 2);
    expect(c.events.filter((e) => e.type === 'assistant_end').at(-1)?.finish_reason).toBe('stop');
    const messages = await messagesOf(publicId);
    expect(messages.map((m) => m.role)).toEqual(['user', 'assistant', 'user', 'assistant']);
    expect(messages[1]).toMatchObject({ partial: true });
  });
});
