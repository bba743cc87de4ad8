/**
 * Two Pulp servers in this process on one PostgreSQL database (so the cluster code is measured by
 * coverage): a dead server's turn is ended by the sweeper from what it saved; the turn log is
 * pruned after the grace period.
 */
import { pathContextRows } from '../../src/chat/context-store.js';
import pg from 'pg';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkConnectionBudget } from '../../src/cluster/cluster.js';
import { pruneTurnLog } from '../../src/cluster/orphan-turns.js';
import { CHANNEL } from '../../src/cluster/wire.js';
import { apiClient } from '../support/api.js';
import { createMigratedPostgresDatabase, sharedPostgresDatabase, TEST_DATABASE_URL, type TestDatabase } from '../support/database.js';
import { startFakeOpenAI, type FakeOpenAI } from '../support/fake-openai.js';
import { fakeModelEnv } from '../support/pulp-process.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { deltasOf, ended, openChat, type ChatClient } from './support.js';

if (!TEST_DATABASE_URL) console.log('test/cluster: skipped — several servers need PostgreSQL (set TEST_DATABASE_URL)');

const LONG = Array.from({ length: 300 }, (_, i) => `l${i} `);

describe.skipIf(!TEST_DATABASE_URL)('cluster internals, two servers in one process', () => {
  let fake: FakeOpenAI;
  let url: string;
  let drop: () => Promise<void>;
  let s1: TestServer;
  let s2: TestServer;
  let admin: pg.Client;
  const clients: ChatClient[] = [];
  /** What the servers told each other (NOTIFY payloads), and who waits for a new one. */
  const notifications: string[] = [];
  const notified = new Set<() => void>();
  /** Resolves once a server has said the turn ended: it sends that after recording the end. */
  const endRecorded = (turnId: string) =>
    new Promise<void>((resolve) => {
      const seen = () => notifications.some((p) => p.includes('"t":"ended"') && p.includes(turnId));
      if (seen()) return resolve();
      const w = () => {
        if (!seen()) return;
        notified.delete(w);
        resolve();
      };
      notified.add(w);
    });

  const database = (): TestDatabase => sharedPostgresDatabase(url);

  beforeAll(async () => {
    fake = await startFakeOpenAI();
    fake.setHandler(() => ({ steps: [{ type: 'pace', ms: 20 }, { type: 'text', deltas: LONG }] }));
    ({ url, drop } = await createMigratedPostgresDatabase());
    const env = {
      DATABASE_URL: url,
      ...fakeModelEnv(fake.baseUrl),
    };
    s1 = await startTestServer(env, { database: database() });
    s2 = await startTestServer({ ...env, DATA_DIR: s1.dataDir }, { database: database() });
    admin = new pg.Client({ connectionString: url });
    await admin.connect();
    admin.on('notification', (msg) => {
      notifications.push(msg.payload ?? '');
      for (const w of [...notified]) w();
    });
    await admin.query(`LISTEN ${CHANNEL}`);
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
  const session = async () => (await apiClient(s1.baseUrl)('POST', '/sessions', { title: 't' })).body as { id: string; session_id: string };
  const uuidOf = async (publicId: string) => (await admin.query<{ id: string }>('SELECT id FROM sessions WHERE session_id = $1', [publicId])).rows[0]!.id;

  it("ends a dead server's turn from what it saved, on its branch: partial text kept, open tool call closed, listeners told", { timeout: 30_000 }, async () => {
    const { session_id: publicId } = await session();
    const sessionUuid = await uuidOf(publicId);
    // What a server killed mid-turn leaves behind, written at once so no sweep sees half of it:
    // the dead turn regenerated the answer to "hello", so its rows are a second branch under it.
    await admin.query('BEGIN');
    await admin.query(`INSERT INTO chat_turns (turn_id, session_id, server_id) VALUES ('turn_dead', $1, 'gone-server')`, [sessionUuid]);
    const row = async (seq: number, parent: string | null, columns: string, values: string) =>
      (
        await admin.query<{ id: string }>(
          `INSERT INTO messages (session_id, seq, parent_id, ${columns}) VALUES ($1, ${seq}, $2, ${values}) RETURNING id`,
          [sessionUuid, parent],
        )
      ).rows[0]!.id;
    const hello = await row(1, null, 'role, content, metadata', `'user', 'hello', '{}'`);
    const firstAnswer = await row(2, hello, 'role, content, metadata', `'assistant', 'the first answer', '{}'`);
    const half = await row(3, hello, 'role, content, metadata', `'assistant', 'half an ans', '{"partial": true, "status": "interrupted", "streaming": true}'`);
    const tool = await row(4, half, 'role, tool_call_id, tool_name, tool_arguments, metadata', `'tool_call', 'call_1', 'read_file', '{}', '{"status": null}'`);
    await admin.query(
      `INSERT INTO llm_context (session_id, seq, item, message_id) VALUES
        ($1, 1, '{"type": "message", "role": "user", "content": "hello"}', $2),
        ($1, 2, '{"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "the first answer"}]}', $3)`,
      [sessionUuid, hello, firstAnswer],
    );
    await admin.query('UPDATE sessions SET active_leaf_id = $2 WHERE id = $1', [sessionUuid, tool]);
    await admin.query(
      `INSERT INTO turn_events (turn_id, seq, session_id, type, event) VALUES
        ('turn_dead', 1, $1, 'assistant_start', $2), ('turn_dead', 2, $1, 'assistant_delta', $3)`,
      [
        sessionUuid,
        JSON.stringify({ type: 'assistant_start', session_id: publicId, turn_id: 'turn_dead', seq: 1 }),
        JSON.stringify({ type: 'assistant_delta', content: 'half an ans', session_id: publicId, turn_id: 'turn_dead', seq: 2 }),
      ],
    );
    await admin.query('COMMIT');
    const c = await open(s2, publicId);
    c.send({ type: 'resume', turn_id: 'turn_dead', after_seq: 0 });
    await c.until(ended('turn_dead'));
    const turn = c.events.filter((e) => e.turn_id === 'turn_dead');
    expect(turn.map((e) => `${e.seq}:${e.type}`)).toEqual(['1:assistant_start', '2:assistant_delta', '3:function_completed', '4:stream_interrupted', '5:assistant_end']);
    expect(turn[2]).toMatchObject({ tool_call_id: 'call_1', tool_success: false, interrupted: true });
    expect(turn[4]!.finish_reason).toBe('interrupted');

    // A client of the dead server had seen more than was logged (seqs the end reused): it still hears the end.
    const other = await open(s1, publicId);
    other.send({ type: 'resume', turn_id: 'turn_dead', after_seq: 7 });
    await other.until(ended('turn_dead'));
    expect(other.events.filter((e) => e.turn_id === 'turn_dead').map((e) => `${e.seq}:${e.type}:${e.finish_reason}`)).toEqual(['8:assistant_end:interrupted']);

    const messages = (await apiClient(s2.baseUrl)('GET', `/sessions/${publicId}`)).body.messages as Array<Record<string, unknown>>;
    expect(messages[1]).toMatchObject({ role: 'assistant', content: 'half an ans', partial: true, status: 'interrupted' });
    expect(messages[2]).toMatchObject({ role: 'tool_call', tool_success: false, status: 'interrupted' });
    // The partial text joined the dead turn's branch only.
    const text = async (leaf: string) => JSON.stringify((await pathContextRows(s1.database.db, sessionUuid, leaf)).map((r) => r.item));
    expect(await text(tool)).toContain('half an ans');
    expect(await text(tool)).not.toContain('the first answer');
    expect(await text(firstAnswer)).toContain('the first answer');
    expect(await text(firstAnswer)).not.toContain('half an ans');
    const { rows: open_ } = await admin.query('SELECT 1 FROM chat_turns WHERE turn_id = $1 AND ended_at IS NULL', ['turn_dead']);
    expect(open_).toHaveLength(0);
  });

  it("a turn whose ending of a dead server's turn fails keeps its lock: no server ends it as an orphan", { timeout: 30_000 }, async () => {
    const { session_id: publicId } = await session();
    const sessionUuid = await uuidOf(publicId);
    // A dead server's turn whose ending fails (a real database error, raised by a trigger) for as
    // long as the test runs: the new turn's attempt fails whichever server's sweeper tried first.
    await admin.query(`CREATE OR REPLACE FUNCTION pulp_test_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN RAISE EXCEPTION 'refused by the test'; END $$`);
    await admin.query(`CREATE TRIGGER pulp_test_refuse BEFORE UPDATE ON chat_turns FOR EACH ROW
      WHEN (OLD.turn_id = 'turn_unendable') EXECUTE FUNCTION pulp_test_refuse()`);
    try {
      await admin.query(`INSERT INTO chat_turns (turn_id, session_id, server_id) VALUES ('turn_unendable', $1, 'gone-server')`, [sessionUuid]);
      const c = await open(s1, publicId);
      const watcher = await open(s2, publicId);
      c.send({ type: 'message', messages: [{ content: 'talk' }] });
      await c.until((ev) => ev.some((e) => e.type === 'assistant_start'));
      const turnId = c.events.find((e) => e.type === 'assistant_start')!.turn_id!;
      await Promise.all([c.until(ended(turnId)), watcher.until(ended(turnId))]);
      const own = c.events.filter((e) => e.turn_id === turnId);
      expect(own.filter((e) => e.type === 'assistant_start')).toHaveLength(1);
      expect(own.some((e) => e.type === 'stream_interrupted')).toBe(false);
      expect(own.find((e) => e.type === 'assistant_end')?.finish_reason).toBe('stop');
      expect(watcher.events.filter((e) => e.turn_id === turnId && e.type === 'assistant_end').map((e) => e.finish_reason)).toEqual(['stop']);
    } finally {
      await admin.query('DROP TRIGGER pulp_test_refuse ON chat_turns');
      await admin.query('DROP FUNCTION pulp_test_refuse()');
      await admin.query(`DELETE FROM chat_turns WHERE turn_id = 'turn_unendable'`);
    }
  });

  it('says at start when max_connections cannot hold the running servers and this one, with the numbers', async () => {
    const lines: string[] = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(line) });
    const { rows } = await admin.query<{ max_connections: string }>('SHOW max_connections');
    const max = Number(rows[0]!.max_connections);
    // Two servers run here already (their lock connections count them): this would be the third.
    const poolMax = Math.floor(max / 3);
    expect(await checkConnectionBudget(s1.pulp.db, poolMax, logger)).toEqual({ max, needed: 3 * (poolMax + 3), servers: 3 });
    const warning = JSON.parse(lines.at(-1)!) as { level: number; msg: string };
    expect(warning.level).toBe(40);
    expect(warning.msg).toContain(`PostgreSQL max_connections (${max}) is smaller than 3 Pulp servers need (3 × (DB_POOL_MAX ${poolMax} + 3) = ${3 * (poolMax + 3)})`);
    await checkConnectionBudget(s1.pulp.db, 5, logger);
    expect((JSON.parse(lines.at(-1)!) as { level: number }).level).toBe(30);
  });

  it('an interrupt on the other server and a resume there work in-process too; the log is pruned after the grace', { timeout: 30_000 }, async () => {
    const { session_id: publicId } = await session();
    const a = await open(s1, publicId);
    const b = await open(s2, publicId);
    a.send({ type: 'message', messages: [{ content: 'talk' }] });
    await b.until((ev) => deltasOf(ev) >= 3);
    b.send({ type: 'interrupt' });
    await Promise.all([a.until(ended()), b.until(ended())]);
    const turnId = a.events[0]!.turn_id!;
    const late = await open(s2, publicId);
    late.send({ type: 'resume', turn_id: turnId, after_seq: 0 });
    await late.until(ended(turnId));
    expect(late.events.filter((e) => e.turn_id === turnId).map((e) => e.seq)).toEqual(a.events.filter((e) => e.turn_id === turnId).map((e) => e.seq));

    const { rows } = await admin.query<{ n: string }>('SELECT count(*) AS n FROM turn_events WHERE turn_id = $1', [turnId]);
    expect(Number(rows[0]!.n)).toBeGreaterThan(0);
    // Clients see assistant_end before the server records the turn's end, which the prune reads.
    await endRecorded(turnId);
    await pruneTurnLog(s1.pulp.db, 0, 3600);
    const after = await admin.query<{ n: string }>('SELECT count(*) AS n FROM turn_events WHERE turn_id = $1', [turnId]);
    expect(after.rows[0]!.n).toBe('0');
    const gone = await open(s2, publicId);
    gone.send({ type: 'resume', turn_id: turnId, after_seq: 0 });
    await gone.until((ev) => ev.some((e) => e.type === 'error'));
    expect(gone.events.find((e) => e.type === 'error')).toMatchObject({ code: 'RES_3001' });
  });
});
