/**
 * SQL for `sessions`. Every statement is filtered by the owner's `user_id`: another user's session
 * is indistinguishable from a missing one.
 */
import type { Queryable } from '../db/database.js';
import { newPublicId, PUBLIC_ID_PATTERN } from './public-id.js';
import type { SessionRow } from './types.js';

const COLUMNS = `id, user_id, session_id, title, is_named, model, reasoning_effort, mcp_config, instructions, pinned, archived,
  message_count, turn_count, total_tokens, accumulated_tool_tokens, created_at, last_used_at,
  (SELECT count(*)::int FROM tool_approvals a WHERE a.session_id = sessions.id AND a.status = 'pending') AS pending_approvals`;
const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const ID_ATTEMPTS = 5;

export interface NewSession {
  userId: string;
  title: string | null;
  isNamed: boolean;
  model: string;
  reasoningEffort: string | null;
  mcpConfig: string[] | null;
  instructions: string;
}

/** Inserts a session with a fresh public id, retrying on the (rare) id collision. */
export async function insertSession(db: Queryable, s: NewSession, newId: () => string = newPublicId): Promise<SessionRow> {
  for (let attempt = 0; attempt < ID_ATTEMPTS; attempt++) {
    const { rows } = await db.query<SessionRow>(
      `INSERT INTO sessions (user_id, session_id, title, is_named, model, reasoning_effort, mcp_config, instructions)
       VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8)
       ON CONFLICT (session_id) DO NOTHING RETURNING ${COLUMNS}`,
      [s.userId, newId(), s.title, s.isNamed, s.model, s.reasoningEffort, s.mcpConfig === null ? null : JSON.stringify(s.mcpConfig), s.instructions],
    );
    if (rows[0]) return rows[0];
  }
  throw new Error(`no free session id after ${ID_ATTEMPTS} attempts`);
}

/** Finds a session by public id (or internal uuid) when `userId` owns it. */
export async function findOwnedSession(db: Queryable, userId: string, id: string): Promise<SessionRow | null> {
  const byUuid = UUID_PATTERN.test(id);
  if (!byUuid && !PUBLIC_ID_PATTERN.test(id)) return null;
  const { rows } = await db.query<SessionRow>(
    `SELECT ${COLUMNS} FROM sessions WHERE ${byUuid ? 'id' : 'session_id'} = $1 AND user_id = $2`,
    [id, userId],
  );
  return rows[0] ?? null;
}

/** One page of the user's archived (or unarchived) sessions, pinned first, then most recently used. */
export async function listSessions(
  db: Queryable,
  userId: string,
  offset: number,
  limit: number,
  archived = false,
): Promise<{ rows: SessionRow[]; total: number }> {
  const [page, count] = await Promise.all([
    db.query<SessionRow>(
      `SELECT ${COLUMNS} FROM sessions WHERE user_id = $1 AND archived = $4
       ORDER BY pinned DESC, last_used_at DESC, id DESC OFFSET $2 LIMIT $3`,
      [userId, offset, limit, archived],
    ),
    db.query<{ n: number }>('SELECT count(*)::int AS n FROM sessions WHERE user_id = $1 AND archived = $2', [userId, archived]),
  ]);
  return { rows: page.rows, total: count.rows[0]?.n ?? 0 };
}

export interface SessionPatch {
  title?: string;
  pinned?: boolean;
  model?: string;
  reasoning_effort?: string | null;
  mcp_config?: string[] | null;
  instructions?: string;
  archived?: boolean;
}

/** Applies `patch`; a new title names the session and moves it up. Returns null when not owned. */
export async function updateSession(db: Queryable, userId: string, sessionUuid: string, patch: SessionPatch): Promise<SessionRow | null> {
  const sets: string[] = [];
  const params: unknown[] = [sessionUuid, userId];
  const set = (column: string, value: unknown, cast = '') => {
    params.push(value);
    sets.push(`${column} = $${params.length}${cast}`);
  };
  if (patch.title !== undefined) {
    set('title', patch.title);
    sets.push('is_named = true', 'last_used_at = now()');
  }
  if (patch.pinned !== undefined) set('pinned', patch.pinned);
  if (patch.model !== undefined) set('model', patch.model);
  if (patch.reasoning_effort !== undefined) set('reasoning_effort', patch.reasoning_effort);
  if (patch.mcp_config !== undefined) set('mcp_config', patch.mcp_config === null ? null : JSON.stringify(patch.mcp_config), '::jsonb');
  if (patch.instructions !== undefined) set('instructions', patch.instructions);
  if (patch.archived !== undefined) set('archived', patch.archived);
  if (sets.length === 0) {
    const { rows } = await db.query<SessionRow>(`SELECT ${COLUMNS} FROM sessions WHERE id = $1 AND user_id = $2`, params as string[]);
    return rows[0] ?? null;
  }
  const { rows } = await db.query<SessionRow>(
    `UPDATE sessions SET ${sets.join(', ')} WHERE id = $1 AND user_id = $2 RETURNING ${COLUMNS}`,
    params as string[],
  );
  return rows[0] ?? null;
}

export async function deleteSession(db: Queryable, userId: string, sessionUuid: string): Promise<boolean> {
  const { rowCount } = await db.query('DELETE FROM sessions WHERE id = $1 AND user_id = $2', [sessionUuid, userId]);
  return rowCount > 0;
}
