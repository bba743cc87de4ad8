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

/** The lock connection of a server whose sweeper asks for a session's lock only when let. */
class HeldBackLocks extends SessionLocks {
  readonly asked = deferred();
  readonly letGo = deferred();

  override async tryLock(sessionUuid: string): Promise<boolean> {
    this.asked.resolve();
    await this.letGo.promise;
    return super.tryLock(sessionUuid);
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

  it("leaves a dead server's paused turn alone once it goes on here, though the sweep took the lock", async () => {
    const user = await admin.query<{ id: string }>(`INSERT INTO users (email) VALUES ('sweep@example.test') RETURNING id`);
    const userId = user.rows[0]!.id;
    const session = await admin.query<{ id: string }>(`INSERT INTO sessions (user_id, session_id, model) VALUES ($1, 'chat_sweeprace01', 'gpt-4o-mini') RETURNING id`, [userId]);
    const sessionUuid = session.rows[0]!.id;
    // What the dead server left: the turn paused on a call, its end never recorded.
    await admin.query(`INSERT INTO chat_turns (turn_id, session_id, server_id) VALUES ('turn_paused', $1, 'gone-server')`, [sessionUuid]);
    await admin.query(`INSERT INTO paused_turns (turn_id, session_id, user_id, last_seq, state) VALUES ('turn_paused', $1, $2, 4, 'ready')`, [sessionUuid, userId]);
    const call = await admin.query<{ id: string }>(
      `INSERT INTO messages (session_id, seq, role, tool_call_id, tool_name, tool_arguments, metadata) VALUES ($1, 1, 'tool_call', 'call_w', 'edit_file', '{}', '{}') RETURNING id`,
      [sessionUuid],
    );

    const locks = new HeldBackLocks(conn);
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

    const row = await admin.query<{ tool_result: string | null }>('SELECT tool_result FROM messages WHERE id = $1', [call.rows[0]!.id]);
    expect(row.rows[0]!.tool_result).toBeNull();
    const record = await admin.query<{ server_id: string; ended_at: Date | null }>(`SELECT server_id, ended_at FROM chat_turns WHERE turn_id = 'turn_paused'`);
    expect(record.rows[0]).toEqual({ server_id: 'here', ended_at: null });

    mayEnd.resolve();
    await turn;
    const ended = await admin.query<{ ended_at: Date | null }>(`SELECT ended_at FROM chat_turns WHERE turn_id = 'turn_paused'`);
    expect(ended.rows[0]!.ended_at).not.toBeNull();
    await coordinator.shutdown(1_000);
  });
});
