/**
 * Refresh tokens: random, stored only as a SHA-256 hash, 7 days, rotated on every use.
 * Presenting a spent token means it leaked: the whole family is revoked, the newest token too.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { Database, Queryable } from '../db/database.js';
import { AppError } from '../errors/app-error.js';

export const REFRESH_TOKEN_TTL_MS = 7 * 24 * 3600 * 1000;

const hashToken = (token: string) => createHash('sha256').update(token).digest('hex');

interface RefreshRow {
  id: string;
  user_id: string;
  family_id: string;
  expires_at: Date;
  revoked_at: Date | null;
}

export async function issueRefreshToken(db: Queryable, userId: string, familyId: string = randomUUID(), now = Date.now()): Promise<string> {
  const token = randomBytes(32).toString('base64url');
  await db.query('INSERT INTO refresh_tokens (user_id, family_id, token_hash, expires_at) VALUES ($1, $2, $3, $4)', [
    userId,
    familyId,
    hashToken(token),
    new Date(now + REFRESH_TOKEN_TTL_MS),
  ]);
  return token;
}

async function revokeFamily(db: Queryable, familyId: string): Promise<void> {
  await db.query('UPDATE refresh_tokens SET revoked_at = now() WHERE family_id = $1 AND revoked_at IS NULL', [familyId]);
}

/** Spends `token` and returns the user id with a new token of the same family; throws AUTH_1003. */
export async function rotateRefreshToken(db: Database, token: string, now = Date.now()): Promise<{ userId: string; token: string }> {
  const result = await db.transaction(async (tx) => {
    const { rows } = await tx.query<RefreshRow>(
      'SELECT id, user_id, family_id, expires_at, revoked_at FROM refresh_tokens WHERE token_hash = $1 FOR UPDATE',
      [hashToken(token)],
    );
    const row = rows[0];
    if (!row) return { error: 'unknown' as const };
    if (row.revoked_at) {
      await revokeFamily(tx, row.family_id);
      return { error: 'reused' as const };
    }
    if (row.expires_at.getTime() <= now) return { error: 'expired' as const };
    await tx.query('UPDATE refresh_tokens SET revoked_at = now() WHERE id = $1', [row.id]);
    return { userId: row.user_id, token: await issueRefreshToken(tx, row.user_id, row.family_id, now) };
  });
  if ('error' in result) {
    const message =
      result.error === 'reused'
        ? 'This refresh token was already used; every session of its login has been signed out.'
        : 'The refresh token is expired or not valid.';
    throw new AppError('AUTH_1003', message);
  }
  return result;
}

/** Revokes the family of `token` (logout). Unknown tokens are ignored: logout always succeeds. */
/**
 * Revokes the family of `token` and raises its owner's `token_version` (so their access tokens
 * signed so far are refused); returns the owner, or undefined for an unknown token.
 */
export async function revokeRefreshToken(db: Database, token: string): Promise<string | undefined> {
  return db.transaction(async (tx) => {
    const { rows } = await tx.query<{ family_id: string; user_id: string }>('SELECT family_id, user_id FROM refresh_tokens WHERE token_hash = $1', [
      hashToken(token),
    ]);
    const row = rows[0];
    if (!row) return undefined;
    await revokeFamily(tx, row.family_id);
    await tx.query('UPDATE users SET token_version = token_version + 1 WHERE id = $1', [row.user_id]);
    return row.user_id;
  });
}
