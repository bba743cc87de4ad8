/**
 * API keys for scripts: `pulp_` + 32 random bytes (base64url), shown once, stored as a SHA-256
 * hash (enough for a high-entropy secret). A key acts as its owner until it is revoked, expires,
 * or the owner is disabled or deleted.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Database, Queryable } from '../db/database.js';
import { AppError } from '../errors/app-error.js';
import type { UserRow } from './users.js';

export const API_KEY_PREFIX = 'pulp_';
export const MAX_API_KEYS_PER_USER = 50;
/** Characters of the key kept in clear to recognise it in lists (`pulp_` + 7). */
const SHOWN_PREFIX_LENGTH = 12;
const KEY_PATTERN = /^pulp_[A-Za-z0-9_-]{43}$/;
/** `last_used_at` is written at most this often per key, so a busy script costs no write per request. */
const LAST_USED_RESOLUTION_S = 60;

export interface ApiKey {
  id: string;
  name: string;
  prefix: string;
  created_at: Date;
  last_used_at: Date | null;
  expires_at: Date | null;
}

const COLUMNS = 'id, name, prefix, created_at, last_used_at, expires_at';
const hashKey = (key: string) => createHash('sha256').update(key).digest('hex');

export function isApiKey(token: string): boolean {
  return token.startsWith(API_KEY_PREFIX);
}

/** Creates a key for `userId`; the secret is in the answer only. Throws RES_3006 past the limit. */
export async function createApiKey(
  db: Database,
  userId: string,
  input: { name: string; expiresAt: Date | null },
): Promise<ApiKey & { key: string }> {
  const key = API_KEY_PREFIX + randomBytes(32).toString('base64url');
  const row = await db.transaction(async (tx) => {
    // Serializes one user's concurrent creations so the limit holds.
    await tx.query('SELECT id FROM users WHERE id = $1 FOR UPDATE', [userId]);
    const { rows: counted } = await tx.query<{ n: number | string }>('SELECT count(*) AS n FROM api_keys WHERE user_id = $1', [userId]);
    if (Number(counted[0]?.n ?? 0) >= MAX_API_KEYS_PER_USER) {
      throw new AppError('RES_3006', `An account can have at most ${MAX_API_KEYS_PER_USER} API keys; revoke one first.`);
    }
    const { rows } = await tx.query<ApiKey>(
      `INSERT INTO api_keys (user_id, name, prefix, key_hash, expires_at) VALUES ($1, $2, $3, $4, $5) RETURNING ${COLUMNS}`,
      [userId, input.name, key.slice(0, SHOWN_PREFIX_LENGTH), hashKey(key), input.expiresAt],
    );
    return rows[0];
  });
  if (!row) throw new Error('the API key was not stored');
  return { ...row, key };
}

export async function listApiKeys(db: Queryable, userId: string): Promise<ApiKey[]> {
  const { rows } = await db.query<ApiKey>(`SELECT ${COLUMNS} FROM api_keys WHERE user_id = $1 ORDER BY created_at DESC, id`, [userId]);
  return rows;
}

/** Deletes the key if `userId` owns it; false otherwise (another user's key is simply not found). */
export async function revokeApiKey(db: Queryable, userId: string, keyId: string): Promise<boolean> {
  const { rowCount } = await db.query('DELETE FROM api_keys WHERE id = $1 AND user_id = $2', [keyId, userId]);
  return (rowCount ?? 0) > 0;
}

/** The owner of `key`; throws AUTH_1002 (unknown or malformed), AUTH_1003 (expired), AUTH_1005 (owner disabled). */
export async function userForApiKey(db: Queryable, key: string, now: number): Promise<UserRow> {
  if (!KEY_PATTERN.test(key)) throw new AppError('AUTH_1002', 'The API key is not valid.');
  const { rows } = await db.query<UserRow & { key_id: string; expires_at: Date | null; last_used_at: Date | null }>(
    `SELECT k.id AS key_id, k.expires_at, k.last_used_at, u.id, u.email, u.display_name, u.role, u.disabled, u.password_hash, u.token_version
       FROM api_keys k JOIN users u ON u.id = k.user_id WHERE k.key_hash = $1`,
    [hashKey(key)],
  );
  const row = rows[0];
  if (!row) throw new AppError('AUTH_1002', 'The API key is not valid.');
  if (row.expires_at && row.expires_at.getTime() <= now) throw new AppError('AUTH_1003', 'The API key has expired.');
  if (row.disabled) throw new AppError('AUTH_1005');
  if (!row.last_used_at || now - row.last_used_at.getTime() >= LAST_USED_RESOLUTION_S * 1000) {
    await db.query('UPDATE api_keys SET last_used_at = $2 WHERE id = $1', [row.key_id, new Date(now)]);
  }
  return row;
}
