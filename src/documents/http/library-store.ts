/** The `libraries` and `session_libraries` rows, always filtered by the owning user. */
import type { Queryable } from '../../db/database.js';
import { AppError } from '../../errors/app-error.js';

export const MAX_LIBRARIES_PER_USER = 100;
export const MAX_DOCUMENTS_PER_LIBRARY = 1000;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface LibraryRow {
  id: string;
  name: string;
  description: string;
  created_at: Date;
  updated_at: Date;
  documents: number;
}

const SELECT = `SELECT l.id, l.name, l.description, l.created_at, l.updated_at,
                       (SELECT count(*)::int FROM documents d WHERE d.library_id = l.id) AS documents
                  FROM libraries l`;

/** The user's library, or `RES_3040` (also for another user's or a malformed id). */
export async function ownedLibrary(db: Queryable, userId: string, id: string): Promise<LibraryRow> {
  if (!UUID.test(id)) throw new AppError('RES_3040', 'Library not found.');
  const { rows } = await db.query<LibraryRow>(`${SELECT} WHERE l.id = $1 AND l.user_id = $2`, [id, userId]);
  if (!rows[0]) throw new AppError('RES_3040', 'Library not found.');
  return rows[0];
}

/** Throws `RES_3040` unless every id is one of the user's libraries. */
export async function checkOwnLibraries(db: Queryable, userId: string, ids: readonly string[]): Promise<void> {
  for (const id of new Set(ids)) await ownedLibrary(db, userId, id);
}

export async function listLibraries(db: Queryable, userId: string): Promise<LibraryRow[]> {
  return (await db.query<LibraryRow>(`${SELECT} WHERE l.user_id = $1 ORDER BY l.created_at, l.id`, [userId])).rows;
}

export async function createLibrary(db: Queryable, userId: string, name: string, description: string): Promise<LibraryRow> {
  const { rows } = await db.query<{ id: string }>(
    `INSERT INTO libraries (user_id, name, description)
     SELECT $1, $2, $3 WHERE (SELECT count(*) FROM libraries WHERE user_id = $1) < $4 RETURNING id`,
    [userId, name, description, MAX_LIBRARIES_PER_USER],
  );
  if (!rows[0]) throw new AppError('RES_3042', `A user may have at most ${MAX_LIBRARIES_PER_USER} libraries.`);
  return ownedLibrary(db, userId, rows[0].id);
}

export async function updateLibrary(db: Queryable, userId: string, id: string, patch: { name?: string | undefined; description?: string | undefined }): Promise<LibraryRow> {
  await ownedLibrary(db, userId, id);
  await db.query('UPDATE libraries SET name = COALESCE($3, name), description = COALESCE($4, description), updated_at = now() WHERE id = $1 AND user_id = $2', [
    id,
    userId,
    patch.name ?? null,
    patch.description ?? null,
  ]);
  return ownedLibrary(db, userId, id);
}

export async function deleteLibrary(db: Queryable, userId: string, id: string): Promise<void> {
  await ownedLibrary(db, userId, id);
  await db.query('DELETE FROM libraries WHERE id = $1 AND user_id = $2', [id, userId]);
}

export async function sessionLibraryIds(db: Queryable, sessionUuid: string): Promise<string[]> {
  const { rows } = await db.query<{ library_id: string }>('SELECT library_id FROM session_libraries WHERE session_id = $1 ORDER BY library_id', [sessionUuid]);
  return rows.map((r) => r.library_id);
}

/** Replaces the libraries a session searches; every id must be the user's own (`RES_3040` otherwise). */
export async function attachLibraries(db: Queryable, userId: string, sessionUuid: string, ids: readonly string[]): Promise<void> {
  const unique = [...new Set(ids)];
  await checkOwnLibraries(db, userId, unique);
  await db.query('DELETE FROM session_libraries WHERE session_id = $1', [sessionUuid]);
  if (unique.length > 0) {
    await db.query('INSERT INTO session_libraries (session_id, library_id) SELECT $1, unnest($2::uuid[]) ON CONFLICT DO NOTHING', [sessionUuid, unique]);
  }
}
