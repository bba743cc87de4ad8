/** The `users` table: lookups, registration, and the single local user of `AUTH_MODE=none`. */
import type { Queryable } from '../db/database.js';
import type { AuthUser } from './types.js';

export const LOCAL_USER_EMAIL = 'local@pulp.localhost';

export interface UserRow extends AuthUser {
  password_hash: string | null;
}

const COLUMNS = 'id, email, display_name, password_hash';

export async function findUserByEmail(db: Queryable, email: string): Promise<UserRow | null> {
  const { rows } = await db.query<UserRow>(`SELECT ${COLUMNS} FROM users WHERE email = $1`, [email.toLowerCase()]);
  return rows[0] ?? null;
}

export async function findUserById(db: Queryable, id: string): Promise<UserRow | null> {
  const { rows } = await db.query<UserRow>(`SELECT ${COLUMNS} FROM users WHERE id = $1`, [id]);
  return rows[0] ?? null;
}

/** Inserts a user; returns `null` when the email is taken. */
export async function insertUser(
  db: Queryable,
  user: { email: string; passwordHash: string | null; displayName: string | null },
): Promise<UserRow | null> {
  const { rows } = await db.query<UserRow>(
    `INSERT INTO users (email, password_hash, display_name) VALUES ($1, $2, $3)
     ON CONFLICT (email) DO NOTHING RETURNING ${COLUMNS}`,
    [user.email.toLowerCase(), user.passwordHash, user.displayName],
  );
  return rows[0] ?? null;
}

/** The local user, created on first start. */
export async function ensureLocalUser(db: Queryable): Promise<AuthUser> {
  await insertUser(db, { email: LOCAL_USER_EMAIL, passwordHash: null, displayName: 'Local user' });
  const user = await findUserByEmail(db, LOCAL_USER_EMAIL);
  if (!user) throw new Error('the local user could not be created');
  return publicUser(user);
}

export function publicUser(row: AuthUser): AuthUser {
  return { id: row.id, email: row.email, display_name: row.display_name };
}
