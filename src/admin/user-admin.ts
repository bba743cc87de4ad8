/**
 * Account administration, framework-free: list and search users, change role and `disabled`,
 * delete a user with their data. The installation always keeps one enabled administrator.
 */
import type { AuthService } from '../auth/auth-service.js';
import type { UserRole } from '../auth/types.js';
import type { Database, Queryable } from '../db/database.js';
import { AppError } from '../errors/app-error.js';
import { deleteSession } from '../sessions/session-store.js';
import { storedOverride, type QuotaOverride } from '../usage/budgets.js';

export interface AdminUser {
  id: string;
  email: string;
  display_name: string | null;
  role: UserRole;
  disabled: boolean;
  created_at: Date;
  session_count: number;
  /** Budget overrides set by an administrator (src/usage); absent keys take the defaults. */
  quota: QuotaOverride;
}

/** What deleting a user needs from the session side: the same steps as `DELETE /sessions/{id}`. */
export interface UserAdminDeps {
  db: Database;
  auth: AuthService;
  turns: { isRunning(sessionUuid: string): boolean; interrupt(sessionUuid: string): Promise<void> };
  workspace: { remove(publicId: string): Promise<void> };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const SELECT_USER = `SELECT u.id, u.email, u.display_name, u.role, u.disabled, u.created_at, u.quota,
  (SELECT count(*) FROM sessions s WHERE s.user_id = u.id) AS session_count FROM users u`;

type AdminUserRow = Omit<AdminUser, 'session_count' | 'quota'> & { session_count: number | string; quota: unknown };
const toAdminUser = (row: AdminUserRow): AdminUser => ({ ...row, session_count: Number(row.session_count), quota: storedOverride(row.quota) });
const notFound = () => new AppError('RES_3001', 'User not found.');
const lastAdmin = () => new AppError('RES_3006', 'This is the last enabled administrator: make another administrator first.');

/** `%`, `_` and `\` in a search are literal characters, not patterns. */
function likePattern(q: string): string {
  return `%${q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

export class UserAdmin {
  constructor(private readonly deps: UserAdminDeps) {}

  async list(input: { q?: string | undefined; offset: number; limit: number }): Promise<{ users: AdminUser[]; total: number }> {
    const pattern = input.q ? likePattern(input.q) : null;
    const where = `WHERE ($1::text IS NULL OR u.email ILIKE $1 OR u.display_name ILIKE $1)`;
    const { rows } = await this.deps.db.query<AdminUserRow>(
      `${SELECT_USER} ${where} ORDER BY u.created_at, u.id LIMIT $2 OFFSET $3`,
      [pattern, input.limit, input.offset],
    );
    const { rows: counted } = await this.deps.db.query<{ n: number | string }>(`SELECT count(*) AS n FROM users u ${where}`, [pattern]);
    return { users: rows.map(toAdminUser), total: Number(counted[0]?.n ?? 0) };
  }

  async get(id: string): Promise<AdminUser> {
    if (!UUID.test(id)) throw notFound();
    const { rows } = await this.deps.db.query<AdminUserRow>(`${SELECT_USER} WHERE u.id = $1`, [id]);
    if (!rows[0]) throw notFound();
    return toAdminUser(rows[0]);
  }

  /**
   * Changes role, `disabled` and/or the budget overrides (`quota` replaces them all); disabling
   * revokes the user's refresh tokens and closes their sockets.
   */
  async update(id: string, patch: { role?: UserRole | undefined; disabled?: boolean | undefined; quota?: QuotaOverride | undefined }): Promise<AdminUser> {
    if (!UUID.test(id)) throw notFound();
    const disabledNow = await this.deps.db.transaction(async (tx) => {
      const target = await lockForChange(tx, id, patch.role === 'user' || patch.disabled === true);
      await tx.query('UPDATE users SET role = COALESCE($2, role), disabled = COALESCE($3, disabled), quota = COALESCE($4::jsonb, quota) WHERE id = $1', [
        id,
        patch.role ?? null,
        patch.disabled ?? null,
        patch.quota === undefined ? null : JSON.stringify(patch.quota),
      ]);
      const disabling = patch.disabled === true && !target.disabled;
      if (disabling) await revokeSessions(tx, id);
      return disabling;
    });
    if (disabledNow) await this.deps.auth.userDisabled(id);
    return this.get(id);
  }

  /** Deletes the user: sessions (turns interrupted, rows, workspaces), tokens, API keys, identities. */
  async remove(id: string): Promise<void> {
    if (!UUID.test(id)) throw notFound();
    // Disabled first, so nothing signs in or starts a turn while the data goes.
    await this.deps.db.transaction(async (tx) => {
      await lockForChange(tx, id, true);
      await tx.query('UPDATE users SET disabled = true WHERE id = $1', [id]);
      await revokeSessions(tx, id);
    });
    await this.deps.auth.userDisabled(id);
    const { rows } = await this.deps.db.query<{ id: string; session_id: string }>('SELECT id, session_id FROM sessions WHERE user_id = $1', [id]);
    for (const session of rows) {
      if (this.deps.turns.isRunning(session.id)) await this.deps.turns.interrupt(session.id);
      await deleteSession(this.deps.db, id, session.id);
      await this.deps.workspace.remove(session.session_id);
    }
    await this.deps.db.query('DELETE FROM users WHERE id = $1', [id]);
  }
}

/**
 * Locks the enabled administrators and the target row; when the change takes away administrator
 * rights (`losing`) from the last enabled administrator, throws 409 RES_3006.
 */
async function lockForChange(tx: Queryable, id: string, losing: boolean): Promise<{ role: UserRole; disabled: boolean }> {
  const { rows: admins } = await tx.query<{ id: string }>(`SELECT id FROM users WHERE role = 'admin' AND NOT disabled ORDER BY id FOR UPDATE`);
  const { rows } = await tx.query<{ role: UserRole; disabled: boolean }>('SELECT role, disabled FROM users WHERE id = $1 FOR UPDATE', [id]);
  const target = rows[0];
  if (!target) throw notFound();
  if (losing && target.role === 'admin' && !target.disabled && admins.every((a) => a.id === id)) throw lastAdmin();
  return target;
}

/** Revokes every refresh token of the user, so no new access token can be made. */
async function revokeSessions(tx: Queryable, userId: string): Promise<void> {
  await tx.query('UPDATE refresh_tokens SET revoked_at = now() WHERE user_id = $1 AND revoked_at IS NULL', [userId]);
}
