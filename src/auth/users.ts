/** The `users` table: lookups, registration, and the single local user of `AUTH_MODE=none`. */
import type { Database, Queryable } from '../db/database.js';
import type { AuthUser, UserRole } from './types.js';

export const LOCAL_USER_EMAIL = 'local@pulp.localhost';

export interface UserRow extends AuthUser {
  password_hash: string | null;
  disabled: boolean;
  /** Raised by logout; an access token signed with an older version is refused. */
  token_version: number;
}

const COLUMNS = 'id, email, display_name, role, disabled, password_hash, token_version';

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
  user: { email: string; passwordHash: string | null; displayName: string | null; role?: UserRole },
): Promise<UserRow | null> {
  const { rows } = await db.query<UserRow>(
    `INSERT INTO users (email, password_hash, display_name, role) VALUES ($1, $2, $3, $4)
     ON CONFLICT (email) DO NOTHING RETURNING ${COLUMNS}`,
    [user.email.toLowerCase(), user.passwordHash, user.displayName, user.role ?? 'user'],
  );
  return rows[0] ?? null;
}

/**
 * Runs `create` with the users table locked against other inserts and tells it whether this is
 * the installation's first account (the `none`-mode local user does not count): two first
 * registrations at once cannot both become administrators.
 */
export async function withFirstUserCheck<T>(db: Database, create: (tx: Queryable, first: boolean) => Promise<T>): Promise<T> {
  return db.transaction(async (tx) => {
    await tx.query('LOCK TABLE users IN SHARE ROW EXCLUSIVE MODE');
    const { rows } = await tx.query<{ exists: boolean }>('SELECT EXISTS (SELECT 1 FROM users WHERE email <> $1) AS exists', [LOCAL_USER_EMAIL]);
    return create(tx, !rows[0]?.exists);
  });
}

/** Whether any account exists besides the `none`-mode local user. */
export async function hasAccounts(db: Queryable): Promise<boolean> {
  const { rows } = await db.query<{ exists: boolean }>('SELECT EXISTS (SELECT 1 FROM users WHERE email <> $1) AS exists', [LOCAL_USER_EMAIL]);
  return rows[0]?.exists === true;
}

/** The local user, created on first start; the administrator of a `none`-mode server. */
export async function ensureLocalUser(db: Queryable): Promise<AuthUser> {
  await insertUser(db, { email: LOCAL_USER_EMAIL, passwordHash: null, displayName: 'Local user', role: 'admin' });
  await db.query(`UPDATE users SET role = 'admin', disabled = false WHERE email = $1 AND (role <> 'admin' OR disabled)`, [LOCAL_USER_EMAIL]);
  const user = await findUserByEmail(db, LOCAL_USER_EMAIL);
  if (!user) throw new Error('the local user could not be created');
  return publicUser(user);
}

export function publicUser(row: AuthUser): AuthUser {
  return { id: row.id, email: row.email, display_name: row.display_name, role: row.role };
}
