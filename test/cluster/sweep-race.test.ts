/**
 * The sweeper and a turn of the same session starting on the same server. A server's session locks
 * are re-entrant on its one lock connection, so a sweep that takes a session's lock while this
 * server's own turn of it has just begun holds it beside that turn. The case: a paused turn whose
 * server died before recording its end goes on here under the same turn id; the sweep must not end
 * it as the dead server's turn. Needs PostgreSQL (TEST_DATABASE_URL).
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClusterEventBus } from '../../src/cluster/cluster-bus.js';
import { ClusterTurnCoordinator } from '../../src/cluster/cluster-coordinator.js';
import { DedicatedConnection } from '../../src/cluster/dedicated-connection.js';
import { SessionLocks } from '../../src/cluster/session-locks.js';
import type { Database } from '../../src/db/database.js';
import { createPostgresDatabase } from '../../src/db/postgres-driver.js';
import { createMigratedPostgresDatabase, TEST_DATABASE_URL } from '../support/database.js';
import { silentLogger } from '../support/server.js';

if (!TEST_DATABASE_URL) console.log('sweep-race.test.ts: skipped — session locks need PostgreSQL (set TEST_DATABASE_URL)');

/** A promise and the function that settles it. */
function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve = (): void => undefined;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

/**
 * The lock connection of a server whose sweeper asks for a session's lock, and gives one back, only
 * when let; it notes the turns that ask to start.
 */
class HeldBackLocks extends SessionLocks {
  readonly asked = deferred();
  readonly letGo = deferred();
  readonly unlockAsked = deferred();
  readonly letUnlock = deferred();
  readonly starts: string[] = [];

  constructor(conn: DedicatedConnection, holdUnlock: boolean) {
    super(conn);
    if (!holdUnlock) this.letUnlock.resolve();
  }

  override async tryLock(sessionUuid: string): Promise<boolean> {
    this.asked.resolve();
    await this.letGo.promise;
    return super.tryLock(sessionUuid);
  }

  override async unlock(sessionUuid: string): Promise<void> {
    this.unlockAsked.resolve();
    await this.letUnlock.promise;
    return super.unlock(sessionUuid);
  }

  override tryStart(sessionUuid: string, turnId: string, serverId: string): ReturnType<SessionLocks['tryStart']> {
    this.starts.push(turnId);
    return super.tryStart(sessionUuid, turnId, serverId);
  }
}

/** The bus as the coordinator uses it, with nobody listening. */
const quietBus = {
  control: () => undefined,
  publish: () => undefined,
  record: () => undefined,
  catchUp: () => Promise.resolve(),
  sync: () => Promise.resolve(),
} as unknown as ClusterEventBus;

describe.skipIf(!TEST_DATABASE_URL)('the sweeper beside a turn starting on its own server', () => {
  let drop: () => Promise<void>;
  let admin: pg.Client;
  let db: Database;
  let conn: DedicatedConnection;

  beforeAll(async () => {
    const created = await createMigratedPostgresDatabase();
    drop = created.drop;
    admin = new pg.Client({ connectionString: created.url });
    await admin.connect();
    db = createPostgresDatabase({ url: created.url, poolMax: 2, statementTimeoutMs: 30_000, logger: silentLogger() });
    conn = new DedicatedConnection({ url: created.url, name: 'pulp-locks-here', logger: silentLogger() });
  });

  afterAll(async () => {
    await conn?.close();
    await db?.close();
    await admin?.end();
    await drop?.();
  });

  /** A session of a new user. */
  const newSession = async (name: string): Promise<{ userId: string; sessionUuid: string }> => {
    const user = await admin.query<{ id: string }>(`INSERT INTO users (email) VALUES ($1) RETURNING id`, [`${name}@example.test`]);
    const userId = user.rows[0]!.id;
    const session = await admin.query<{ id: string }>(`INSERT INTO sessions (user_id, session_id, model) VALUES ($1, $2, 'gpt-4o-mini') RETURNING id`, [userId, `chat_${name}`]);
    return { userId, sessionUuid: session.rows[0]!.id };
  };
  /** A call the dead server's turn left open: its row has no result. */
  const openCall = async (sessionUuid: string, callId: string): Promise<string> =>
    (
      await admin.query<{ id: string }>(
        `INSERT INTO messages (session_id, seq, role, tool_call_id, tool_name, tool_arguments, metadata) VALUES ($1, 1, 'tool_call', $2, 'edit_file', '{}', '{}') RETURNING id`,
        [sessionUuid, callId],
      )
    ).rows[0]!.id;
  const resultOf = async (messageId: string) => (await admin.query<{ tool_result: string | null }>('SELECT tool_result FROM messages WHERE id = $1', [messageId])).rows[0]!.tool_result;

  it("leaves a dead server's paused turn alone once it goes on here, though the sweep took the lock", async () => {
    const { userId, sessionUuid } = await newSession('sweeprace01');
    // What the dead server left: the turn paused on a call, its end never recorded.
    await admin.query(`INSERT INTO chat_turns (turn_id, session_id, server_id) VALUES ('turn_paused', $1, 'gone-server')`, [sessionUuid]);
    await admin.query(`INSERT INTO paused_turns (turn_id, session_id, user_id, last_seq, state) VALUES ('turn_paused', $1, $2, 4, 'ready')`, [sessionUuid, userId]);
    const call = await openCall(sessionUuid, 'call_w');

    const locks = new HeldBackLocks(conn, false);
    const coordinator = new ClusterTurnCoordinator({ serverId: 'here', db, bus: quietBus, locks, logger: silentLogger() });
    const sweep = coordinator.sweep();
    await locks.asked.promise;

    // The turn goes on here (its continuation claims the pause), while the sweep waits for the lock.
    const going = deferred();
    const mayEnd = deferred();
    const turn = coordinator.start(
      sessionUuid,
      async () => {
        await admin.query(`DELETE FROM paused_turns WHERE turn_id = 'turn_paused'`);
        going.resolve();
        await mayEnd.promise;
      },
      'turn_paused',
    );
    await going.promise;
    locks.letGo.resolve();
    await sweep;

    expect(await resultOf(call)).toBeNull();
    const record = await admin.query<{ server_id: string; ended_at: Date | null }>(`SELECT server_id, ended_at FROM chat_turns WHERE turn_id = 'turn_paused'`);
    expect(record.rows[0]).toEqual({ server_id: 'here', ended_at: null });

    mayEnd.resolve();
    await turn;
    const ended = await admin.query<{ ended_at: Date | null }>(`SELECT ended_at FROM chat_turns WHERE turn_id = 'turn_paused'`);
    expect(ended.rows[0]!.ended_at).not.toBeNull();
    await coordinator.shutdown(1_000);
  });

  it("makes a turn starting here wait while the sweep ends a dead turn of its session, then runs it", async () => {
    const { sessionUuid } = await newSession('sweeprace02');
    await admin.query(`INSERT INTO chat_turns (turn_id, session_id, server_id) VALUES ('turn_dead', $1, 'gone-server')`, [sessionUuid]);
    const call = await openCall(sessionUuid, 'call_d');

    const locks = new HeldBackLocks(conn, true);
    locks.letGo.resolve();
    const coordinator = new ClusterTurnCoordinator({ serverId: 'here', db, bus: quietBus, locks, logger: silentLogger() });
    const sweep = coordinator.sweep();
    // The dead turn is ended (its call closed); the sweep still holds the session's lock.
    await locks.unlockAsked.promise;
    expect(await resultOf(call)).toContain('Interrupted by the server stopping');

    const ran: string[] = [];
    const turn = coordinator.start(sessionUuid, async () => void ran.push('turn'), 'turn_new');
    // Everything the start does before asking for the lock is done within this turn of the event loop.
    await new Promise((resolve) => setImmediate(resolve));
    expect(locks.starts).toEqual([]);

    locks.letUnlock.resolve();
    await sweep;
    await turn;
    expect(locks.starts).toEqual(['turn_new']);
    expect(ran).toEqual(['turn']);
    await coordinator.shutdown(1_000);
  });
});
