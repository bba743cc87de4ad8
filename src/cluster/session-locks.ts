/**
 * The turn lock of a session across servers: a session-level advisory lock taken on one connection
 * per server. PostgreSQL releases it when that connection ends — a server killed mid-turn loses its
 * locks with its socket, and another server can take the session over.
 */
import { BatchedCalls } from '../util/batched-calls.js';
import type { DedicatedConnection } from './dedicated-connection.js';

/**
 * The `application_name` of a server's lock connection: while it is in pg_stat_activity the
 * server is alive (a killed server's connection, and with it its locks, is gone).
 */
export const LOCK_CONNECTION_PREFIX = 'pulp-locks-';
export const lockConnectionName = (serverId: string): string => `${LOCK_CONNECTION_PREFIX}${serverId}`;

/** The advisory-lock key of the session whose id (as text) `sessionText` is: one formula for every statement. */
const lockKey = (sessionText: string): string => `hashtextextended('pulp.turn.' || ${sessionText}, 0)`;

// Each row of the arrays $1 (session ids, as text: the lock key hashes that text) and $2 (turn ids)
// is one turn starting on server $3, in order.
// A paused turn going on (src/approvals) records its same turn id again, open on this server; a
// row of it that a dead server left open is this turn, not an orphan.
// Turns this server recorded are never in `open`: if one is still open it is alive here (the lock
// is re-entrant on this server's connection), and only its own end may close it.
const START_SQL = `
WITH l AS MATERIALIZED (
  SELECT r.ord, r.session_key::uuid AS session_id, r.turn_id, pg_try_advisory_lock(${lockKey('r.session_key')}) AS ok
  FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS r(session_key, turn_id, ord)),
open AS (SELECT l.ord, coalesce((SELECT array_agg(t.turn_id ORDER BY t.started_at) FROM chat_turns t
  WHERE t.session_id = l.session_id AND t.ended_at IS NULL AND t.server_id <> $3 AND t.turn_id <> l.turn_id), '{}') AS turns FROM l),
ins AS (INSERT INTO chat_turns (turn_id, session_id, server_id) SELECT l.turn_id, l.session_id, $3 FROM l WHERE l.ok
  ON CONFLICT (turn_id) DO UPDATE SET server_id = EXCLUDED.server_id, started_at = now(), ended_at = NULL RETURNING 1)
SELECT l.ok, open.turns AS open, (SELECT count(*) FROM ins) AS inserted FROM l JOIN open USING (ord) ORDER BY l.ord`;

const UNLOCK_SQL = `SELECT pg_advisory_unlock(${lockKey('k')}) FROM unnest($1::text[]) WITH ORDINALITY AS u(k, ord) ORDER BY ord`;

export interface StartAttempt {
  ok: boolean;
  /**
   * Turns of the session other servers recorded and have not ended. With `ok` their servers died
   * (we hold the lock now); without, the lock's holder runs one of them.
   */
  open: string[];
}

export class SessionLocks {
  readonly #starts: BatchedCalls<{ sessionUuid: string; turnId: string; serverId: string }, StartAttempt>;
  readonly #unlocks: BatchedCalls<string, void>;

  constructor(private readonly conn: DedicatedConnection) {
    this.#starts = new BatchedCalls(async (calls) => {
      // One server asks for its own turns: every call of a batch names the same server.
      const serverId = calls[0]?.serverId ?? '';
      const rows = await conn.query<{ ok: boolean; open: string[] }>(START_SQL, [calls.map((c) => c.sessionUuid), calls.map((c) => c.turnId), serverId]);
      return rows.map((row) => ({ ok: row.ok, open: row.open }));
    });
    this.#unlocks = new BatchedCalls(async (sessions) => {
      const rows = await conn.query(UNLOCK_SQL, [sessions]);
      return rows.map((): void => undefined);
    });
  }

  /**
   * Takes the session's lock and records the turn as running here, in one round trip (shared with
   * the other turns starting meanwhile).
   */
  tryStart(sessionUuid: string, turnId: string, serverId: string): Promise<StartAttempt> {
    return this.#starts.call({ sessionUuid, turnId, serverId });
  }

  async tryLock(sessionUuid: string): Promise<boolean> {
    const rows = await this.conn.query<{ ok: boolean }>(`SELECT pg_try_advisory_lock(${lockKey('$1::text')}) AS ok`, [sessionUuid]);
    return rows[0]?.ok === true;
  }

  /** Releases one hold of the lock (holds on one connection stack). */
  unlock(sessionUuid: string): Promise<void> {
    return this.#unlocks.call(sessionUuid);
  }
}
