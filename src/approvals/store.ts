/**
 * The approvals tables (`paused_turns`, `tool_approvals`, `sessions.tool_approvals`) and the one
 * row each decision, claim and end changes. Every state change is one guarded UPDATE or DELETE
 * (`WHERE status = 'pending'`, `WHERE state = 'ready'`, `WHERE settled_at IS NULL`), so two
 * servers answering, continuing or ending the same turn cannot both succeed.
 */
import type { Database, Queryable } from '../db/database.js';
import { AppError } from '../errors/app-error.js';
import type { ApprovalRecord } from '../chat/row-flags.js';
import type { PausedCall } from '../chat/turn-pause.js';
import { toStorableObject } from '../util/storable-text.js';
import { SessionPoliciesSchema, type SessionPolicies } from './policy.js';
import { KeyedReads } from '../db/keyed-reads.js';

export type ApprovalStatus = 'pending' | 'approved' | 'denied' | 'expired' | 'interrupted';
export type Decision = 'approved' | 'denied' | 'expired';

export interface ApprovalRow {
  session_id: string;
  tool_call_id: string;
  turn_id: string;
  tool_name: string;
  arguments: Record<string, unknown>;
  arguments_text: string;
  status: ApprovalStatus;
  decided_by: string | null;
  decided_at: Date | null;
  reason: string | null;
  created_at: Date;
  expires_at: Date;
}

const iso = (d: Date | string | null): string | null => (d === null ? null : new Date(d).toISOString());

/** What a tool row's metadata says of its approval. */
export function recordOf(row: ApprovalRow): ApprovalRecord {
  return { decision: row.status, by: row.decided_by, at: iso(row.decided_at), reason: row.reason, expires_at: new Date(row.expires_at).toISOString() };
}

const SET_ROW_APPROVAL = `UPDATE messages SET metadata = metadata || jsonb_build_object('approval', $3::jsonb)
  WHERE session_id = $1 AND role = 'tool_call' AND tool_call_id = $2`;

async function markRow(q: Queryable, row: ApprovalRow): Promise<void> {
  await q.query(SET_ROW_APPROVAL, [row.session_id, row.tool_call_id, JSON.stringify(recordOf(row))]);
}

/** Stores a pause: the turn (where its events go on) and its calls, their rows marked waiting. */
export async function savePause(db: Database, turn: { sessionUuid: string; userId: string; turnId: string; lastSeq: number }, calls: readonly PausedCall[], expiresAt: Date): Promise<ApprovalRow[]> {
  return db.transaction(async (tx) => {
    await tx.query(
      `INSERT INTO paused_turns (turn_id, session_id, user_id, last_seq, state) VALUES ($1, $2, $3, $4, 'paused')
       ON CONFLICT (turn_id) DO UPDATE SET last_seq = EXCLUDED.last_seq, state = 'paused', paused_at = now(), ready_at = NULL`,
      [turn.turnId, turn.sessionUuid, turn.userId, turn.lastSeq],
    );
    const rows: ApprovalRow[] = [];
    for (const call of calls) {
      const { rows: inserted } = await tx.query<ApprovalRow>(
        `INSERT INTO tool_approvals (session_id, tool_call_id, turn_id, tool_name, arguments, arguments_text, status, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, 'pending', $7) RETURNING *`,
        [turn.sessionUuid, call.callId, turn.turnId, call.name, toStorableObject(call.args), call.argsText, expiresAt],
      );
      const row = inserted[0];
      if (!row) continue;
      await markRow(tx, row);
      rows.push(row);
    }
    return rows;
  });
}

export interface Decided {
  row: ApprovalRow;
  /** The seq of the `approval_resolved` event. */
  seq: number;
  /** Every call of the turn is decided: the turn may go on. */
  ready: boolean;
}

/**
 * Decides one waiting call. Throws RES_3060 when the session has no such call, RES_3061 when it
 * was decided already. Deciders of one turn queue on its `paused_turns` row, so exactly one of
 * them sees the last call decided.
 */
export async function decide(db: Database, sessionUuid: string, callId: string, d: { status: Decision; by: string; reason: string | null; always?: 'auto' | 'deny' }): Promise<Decided> {
  return db.transaction(async (tx) => {
    const { rows: found } = await tx.query<{ turn_id: string; status: ApprovalStatus }>('SELECT turn_id, status FROM tool_approvals WHERE session_id = $1 AND tool_call_id = $2', [sessionUuid, callId]);
    const approval = found[0];
    if (!approval) throw new AppError('RES_3060', 'No tool call with this id waits for approval in this session.');
    await tx.query('SELECT 1 FROM paused_turns WHERE turn_id = $1 FOR UPDATE', [approval.turn_id]);
    const { rows: updated } = await tx.query<ApprovalRow>(
      `UPDATE tool_approvals SET status = $3, decided_by = $4, decided_at = now(), reason = $5
       WHERE session_id = $1 AND tool_call_id = $2 AND status = 'pending' RETURNING *`,
      [sessionUuid, callId, d.status, d.by, d.reason],
    );
    const row = updated[0];
    if (!row) throw new AppError('RES_3061', `This tool call was already decided (${approval.status}).`);
    const { rows: turn } = await tx.query<{ last_seq: number; state: string }>(
      `UPDATE paused_turns SET last_seq = last_seq + 1,
         state = CASE WHEN EXISTS (SELECT 1 FROM tool_approvals WHERE turn_id = $1 AND status = 'pending') THEN 'paused' ELSE 'ready' END,
         ready_at = CASE WHEN EXISTS (SELECT 1 FROM tool_approvals WHERE turn_id = $1 AND status = 'pending') THEN NULL ELSE now() END
       WHERE turn_id = $1 RETURNING last_seq, state`,
      [row.turn_id],
    );
    await markRow(tx, row);
    if (d.always) {
      await tx.query(`UPDATE sessions SET tool_approvals = tool_approvals || jsonb_build_object($2::text, $3::text) WHERE id = $1`, [sessionUuid, row.tool_name, d.always]);
    }
    return { row, seq: Number(turn[0]?.last_seq ?? 0), ready: turn[0]?.state === 'ready' };
  });
}

export interface Claimed {
  lastSeq: number;
  /** The decided calls not yet settled, oldest first: this continuation settles them, once. */
  calls: ApprovalRow[];
}

/** Takes the right to go on with a ready turn; undefined when another server (or an end) took it. */
export async function claimReady(db: Database, turnId: string): Promise<Claimed | undefined> {
  return db.transaction(async (tx) => {
    const { rows } = await tx.query<{ last_seq: number }>(`DELETE FROM paused_turns WHERE turn_id = $1 AND state = 'ready' RETURNING last_seq`, [turnId]);
    const claimed = rows[0];
    if (!claimed) return undefined;
    const { rows: calls } = await tx.query<ApprovalRow>(
      `UPDATE tool_approvals SET settled_at = now() WHERE turn_id = $1 AND settled_at IS NULL AND status <> 'pending' RETURNING *`,
      [turnId],
    );
    calls.sort((a, b) => new Date(a.created_at).getTime() - new Date(b.created_at).getTime() || a.tool_call_id.localeCompare(b.tool_call_id));
    return { lastSeq: Number(claimed.last_seq), calls };
  });
}

export interface EndedPause {
  turnId: string;
  lastSeq: number;
  /** Every call of the turn not yet settled, now `interrupted` (the ones still waiting) and settled. */
  calls: ApprovalRow[];
}

/** Ends the session's paused turn (a new message, an interrupt): its unsettled calls are settled here. */
export async function endPause(db: Queryable & Pick<Database, 'transaction'>, sessionUuid: string, by: string): Promise<EndedPause | undefined> {
  // Every new message asks; almost no session has a paused turn: one read (shared with the other
  // turns starting meanwhile), no transaction, then.
  if ((await pausedSessions.read(db, sessionUuid)).length === 0) return undefined;
  return db.transaction(async (tx) => {
    const { rows } = await tx.query<{ turn_id: string; last_seq: number }>('DELETE FROM paused_turns WHERE session_id = $1 RETURNING turn_id, last_seq', [sessionUuid]);
    const turn = rows[0];
    if (!turn) return undefined;
    await tx.query(
      `UPDATE tool_approvals SET status = 'interrupted', decided_by = $2, decided_at = now() WHERE turn_id = $1 AND status = 'pending'`,
      [turn.turn_id, by],
    );
    const { rows: calls } = await tx.query<ApprovalRow>(`UPDATE tool_approvals SET settled_at = now() WHERE turn_id = $1 AND settled_at IS NULL RETURNING *`, [turn.turn_id]);
    for (const call of calls) await markRow(tx, call);
    return { turnId: turn.turn_id, lastSeq: Number(turn.last_seq), calls };
  });
}

/** The session's calls waiting for a person, oldest first. */
export async function listPending(db: Queryable, sessionUuid: string): Promise<ApprovalRow[]> {
  const { rows } = await db.query<ApprovalRow>(`SELECT * FROM tool_approvals WHERE session_id = $1 AND status = 'pending' ORDER BY created_at, tool_call_id`, [sessionUuid]);
  return rows;
}

const pausedSessions = new KeyedReads<{ key: string }>(
  'SELECT DISTINCT k.id AS key FROM unnest($1::text[]) AS k(id) JOIN paused_turns p ON p.session_id = k.id::uuid',
);

const policiesOf = new KeyedReads<{ key: string; tool_approvals: unknown }>(
  'SELECT k.id AS key, s.tool_approvals FROM unnest($1::text[]) AS k(id) JOIN sessions s ON s.id = k.id::uuid',
);

/** The session's own policies ("always allow in this chat"), read with the other turns' starting meanwhile. */
export async function sessionPolicies(db: Queryable, sessionUuid: string): Promise<SessionPolicies> {
  const rows = await policiesOf.read(db, sessionUuid);
  return parsePolicies(rows[0]?.tool_approvals);
}

/** `sessions.tool_approvals` as policies; a value that is not one (null, a hand-edited row) is none. */
export function parsePolicies(value: unknown): SessionPolicies {
  const parsed = SessionPoliciesSchema.safeParse(value ?? {});
  return parsed.success ? parsed.data : {};
}

/** Waiting calls past their deadline (any session), for the sweeper. */
export async function expiredPending(db: Queryable, limit: number): Promise<Array<{ session_id: string; tool_call_id: string }>> {
  const { rows } = await db.query<{ session_id: string; tool_call_id: string }>(
    `SELECT session_id, tool_call_id FROM tool_approvals WHERE status = 'pending' AND expires_at <= now() ORDER BY expires_at LIMIT $1`,
    [limit],
  );
  return rows;
}

/** Turns decided `staleS` seconds ago that nobody went on with (their server died in between). */
export async function staleReady(db: Queryable, staleS: number, limit: number): Promise<string[]> {
  const { rows } = await db.query<{ turn_id: string }>(
    `SELECT turn_id FROM paused_turns WHERE state = 'ready' AND ready_at < now() - make_interval(secs => $1) ORDER BY ready_at LIMIT $2`,
    [staleS, limit],
  );
  return rows.map((r) => r.turn_id);
}

/** The session a turn belongs to, as events and the chat service need it. */
export async function sessionOfTurn(db: Queryable, turnId: string): Promise<{ id: string; session_id: string; user_id: string } | undefined> {
  const { rows } = await db.query<{ id: string; session_id: string; user_id: string }>(
    'SELECT s.id, s.session_id, s.user_id FROM paused_turns p JOIN sessions s ON s.id = p.session_id WHERE p.turn_id = $1',
    [turnId],
  );
  return rows[0];
}
