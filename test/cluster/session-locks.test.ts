/**
 * The turn locks of many sessions taken and given back at once on a server's single lock
 * connection: a few statements for a burst, each caller answered for its own session. Needs
 * PostgreSQL (TEST_DATABASE_URL).
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DedicatedConnection } from '../../src/cluster/dedicated-connection.js';
import { SessionLocks } from '../../src/cluster/session-locks.js';
import { createMigratedPostgresDatabase, TEST_DATABASE_URL } from '../support/database.js';
import { silentLogger } from '../support/server.js';

if (!TEST_DATABASE_URL) console.log('session-locks.test.ts: skipped — advisory locks need PostgreSQL (set TEST_DATABASE_URL)');

/** A server's lock connection, counting the statements it sends. */
function lockConnection(url: string, name: string) {
  const conn = new DedicatedConnection({ url, name, logger: silentLogger() });
  const query = conn.query.bind(conn);
  let statements = 0;
  conn.query = ((sql: string, params?: unknown[]) => {
    statements += 1;
    return query(sql, params);
  });
  return { conn, locks: new SessionLocks(conn), statements: () => statements };
}

describe.skipIf(!TEST_DATABASE_URL)('session turn locks in bursts', () => {
  let drop: () => Promise<void>;
  let admin: pg.Client;
  let a: ReturnType<typeof lockConnection>;
  let b: ReturnType<typeof lockConnection>;
  const sessions: string[] = [];

  beforeAll(async () => {
    const created = await createMigratedPostgresDatabase();
    drop = created.drop;
    admin = new pg.Client({ connectionString: created.url });
    await admin.connect();
    const user = await admin.query<{ id: string }>(`INSERT INTO users (email) VALUES ('locks@example.test') RETURNING id`);
    const rows = await admin.query<{ id: string }>(
      `INSERT INTO sessions (user_id, session_id, model) SELECT $1, 'sess_locks_' || n, 'gpt-4o-mini' FROM generate_series(1, 30) n RETURNING id`,
      [user.rows[0]?.id],
    );
    sessions.push(...rows.rows.map((r) => r.id));
    a = lockConnection(created.url, 'pulp-locks-a');
    b = lockConnection(created.url, 'pulp-locks-b');
  });

  afterAll(async () => {
    await a?.conn.close();
    await b?.conn.close();
    await admin?.end();
    await drop?.();
  });

  it('takes 30 locks started at once in at most 3 statements, records each turn, and answers each caller for its own session', async () => {
    const attempts = await Promise.all(sessions.map((s, i) => a.locks.tryStart(s, `turn_a${i}`, 'a')));
    expect(attempts.every((x) => x.ok && x.open.length === 0)).toBe(true);
    expect(a.statements()).toBeLessThanOrEqual(3);
    const open = await admin.query<{ n: number }>(`SELECT count(*)::int AS n FROM chat_turns WHERE server_id = 'a' AND ended_at IS NULL`);
    expect(open.rows[0]?.n).toBe(30);

    // Another server finds each session it asks for held, by the turn running it.
    const asked = [sessions[4], sessions[17], sessions[9]] as string[];
    const refused = await Promise.all(asked.map((s, i) => b.locks.tryStart(s, `turn_b${i}`, 'b')));
    expect(refused).toEqual([
      { ok: false, open: ['turn_a4'] },
      { ok: false, open: ['turn_a17'] },
      { ok: false, open: ['turn_a9'] },
    ]);
  });

  it('gives 30 locks back at once in at most 3 statements; the other server then takes them, finding the turns left open', async () => {
    const before = a.statements();
    await Promise.all(sessions.map((s) => a.locks.unlock(s)));
    expect(a.statements() - before).toBeLessThanOrEqual(3);
    const taken = await b.locks.tryStart(sessions[17] as string, 'turn_b17', 'b');
    expect(taken).toEqual({ ok: true, open: ['turn_a17'] });
    expect(await b.locks.tryLock(sessions[4] as string)).toBe(true);
  });
});
