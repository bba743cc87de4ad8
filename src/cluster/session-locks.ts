/**
 * The turn lock of a session across servers: a session-level advisory lock taken on one connection
 * per server. PostgreSQL releases it when that connection ends — a server killed mid-turn loses its
 * locks with its socket, and another server can take the session over.
 */
import { DedicatedConnection } from './dedicated-connection.js';

/**
 * The `application_name` of a server's lock connection: while it is in pg_stat_activity the
 * server is alive (a killed server's connection, and with it its locks, is gone).
 */
export const LOCK_CONNECTION_PREFIX = 'pulp-locks-';
export const lockConnectionName = (serverId: string): string => `${LOCK_CONNECTION_PREFIX}${serverId}`;

const KEY = `hashtextextended('pulp.turn.' || $1::text, 0)`;

// A paused turn going on (src/approvals) records its same turn id again, open on this server; a
// row of it that a dead server left open is this turn, not an orphan.
// Turns this server recorded are never in `open`: if one is still open it is alive here (the lock
// is re-entrant on this server's connection), and only its own end may close it.
const START_SQL = `
WITH l AS MATERIALIZED (SELECT pg_try_advisory_lock(${KEY}) AS ok),
open AS (SELECT coalesce(array_agg(t.turn_id ORDER BY t.started_at), '{}') AS turns FROM chat_turns t
  WHERE t.session_id = $1::uuid AND t.ended_at IS NULL AND t.server_id <> $3 AND t.turn_id <> $2),
ins AS (INSERT INTO chat_turns (turn_id, session_id, server_id) SELECT $2, $1::uuid, $3 FROM l WHERE l.ok
  ON CONFLICT (turn_id) DO UPDATE SET server_id = EXCLUDED.server_id, started_at = now(), ended_at = NULL RETURNING 1)
SELECT l.ok, open.turns AS open, (SELECT count(*) FROM ins) AS inserted FROM l, open`;

export interface StartAttempt {
  ok: boolean;
  /**
   * Turns of the session other servers recorded and have not ended. With `ok` their servers died
   * (we hold the lock now); without, the lock's holder runs one of them.
   */
  open: string[];
}

export class SessionLocks {
  constructor(private readonly conn: DedicatedConnection) {}

  /** Takes the session's lock and records the turn as running here, in one round trip. */
  async tryStart(sessionUuid: string, turnId: string, serverId: string): Promise<StartAttempt> {
    const rows = await this.conn.query<{ ok: boolean; open: string[] }>(START_SQL, [sessionUuid, turnId, serverId]);
    const row = rows[0];
    return { ok: row?.ok === true, open: row?.open ?? [] };
  }

  async tryLock(sessionUuid: string): Promise<boolean> {
    const rows = await this.conn.query<{ ok: boolean }>(`SELECT pg_try_advisory_lock(${KEY}) AS ok`, [sessionUuid]);
    return rows[0]?.ok === true;
  }

  /** Releases one hold of the lock (holds on one connection stack). */
  async unlock(sessionUuid: string): Promise<void> {
    await this.conn.query(`SELECT pg_advisory_unlock(${KEY})`, [sessionUuid]);
  }
}
