/**
 * SQL for `session_shares`. A link's token is 32 random bytes (base64url), shown once and stored
 * as a SHA-256 hash, as API keys are: enough for a high-entropy secret, and a database leak reveals
 * no link. Every owner-side statement is filtered by the owner.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Database, Queryable } from '../db/database.js';
import { AppError } from '../errors/app-error.js';
import type { ShareSnapshot } from './snapshot.js';

/** Links one session may have at once. */
export const MAX_SHARES_PER_SESSION = 50;
const TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/;
const hashToken = (token: string) => createHash('sha256').update(token).digest('hex');

export interface ShareRow {
  id: string;
  created_at: Date;
  title: string | null;
  message_count: number;
}

const COLUMNS = `id, created_at, snapshot ->> 'title' AS title, jsonb_array_length(snapshot -> 'messages') AS message_count`;

/** Stores `snapshot` under a new token; the token is in the answer only. Throws RES_3032 past the limit. */
export async function createShare(db: Database, userId: string, sessionUuid: string, snapshot: ShareSnapshot): Promise<ShareRow & { token: string }> {
  const token = randomBytes(32).toString('base64url');
  const row = await db.transaction(async (tx) => {
    // Serializes one session's concurrent creations so the limit holds.
    await tx.query('SELECT id FROM sessions WHERE id = $1 FOR UPDATE', [sessionUuid]);
    const { rows: counted } = await tx.query<{ n: number }>('SELECT count(*)::int AS n FROM session_shares WHERE session_id = $1', [sessionUuid]);
    if ((counted[0]?.n ?? 0) >= MAX_SHARES_PER_SESSION) {
      throw new AppError('RES_3032', `A chat can have at most ${MAX_SHARES_PER_SESSION} share links; revoke one first.`);
    }
    const { rows } = await tx.query<ShareRow>(
      `INSERT INTO session_shares (session_id, user_id, token_hash, snapshot) VALUES ($1, $2, $3, $4::jsonb) RETURNING ${COLUMNS}`,
      [sessionUuid, userId, hashToken(token), JSON.stringify(snapshot)],
    );
    return rows[0];
  });
  if (!row) throw new Error('the share was not stored');
  return { ...row, message_count: Number(row.message_count), token };
}

export async function listShares(db: Queryable, userId: string, sessionUuid: string): Promise<ShareRow[]> {
  const { rows } = await db.query<ShareRow>(
    `SELECT ${COLUMNS} FROM session_shares WHERE session_id = $1 AND user_id = $2 ORDER BY created_at DESC, id`,
    [sessionUuid, userId],
  );
  return rows.map((r) => ({ ...r, message_count: Number(r.message_count) }));
}

/** Deletes the link if `userId` owns it on this session; false otherwise. */
export async function revokeShare(db: Queryable, userId: string, sessionUuid: string, shareId: string): Promise<boolean> {
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(shareId)) return false;
  const { rowCount } = await db.query('DELETE FROM session_shares WHERE id = $1 AND session_id = $2 AND user_id = $3', [shareId, sessionUuid, userId]);
  return rowCount > 0;
}

/** The snapshot behind `token`, or null (unknown, revoked, or its owner is disabled). */
export async function findSharedSnapshot(db: Queryable, token: string): Promise<ShareSnapshot | null> {
  if (!TOKEN_PATTERN.test(token)) return null;
  const { rows } = await db.query<{ snapshot: ShareSnapshot }>(
    `SELECT s.snapshot FROM session_shares s JOIN users u ON u.id = s.user_id WHERE s.token_hash = $1 AND NOT u.disabled`,
    [hashToken(token)],
  );
  return rows[0]?.snapshot ?? null;
}
