/**
 * The `files` table kept in step with the disk: a row per file in `input/` or `output/`, keyed by
 * (session, folder, filename) where `filename` is the path inside the folder (`sub/a.csv`).
 */
import type { Queryable } from '../db/database.js';
import type { Folder } from './jail.js';

export interface FileRowInput {
  sessionUuid: string;
  folder: Folder;
  /** Path inside the folder, `/`-separated. */
  filename: string;
  contentType: string;
  sizeBytes: number;
}

/** Inserts or refreshes the row for one file (a replaced file gets a new size and time). */
export async function upsertFileRow(db: Queryable, row: FileRowInput): Promise<void> {
  await db.query(
    `INSERT INTO files (session_id, folder, filename, content_type, size_bytes)
     VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (session_id, folder, filename)
     DO UPDATE SET content_type = EXCLUDED.content_type, size_bytes = EXCLUDED.size_bytes, uploaded_at = now()`,
    [row.sessionUuid, row.folder, row.filename, row.contentType, row.sizeBytes],
  );
}

/** Deletes the row of a file, or of everything under a sub-folder of that name. Returns rows deleted. */
export async function deleteFileRows(db: Queryable, sessionUuid: string, folder: Folder, filename: string): Promise<number> {
  // left(...) instead of LIKE: names may contain % and _, which LIKE would treat as wildcards.
  const { rowCount } = await db.query(
    `DELETE FROM files
      WHERE session_id = $1 AND folder = $2
        AND (filename = $3 OR left(filename, length($3) + 1) = $3 || '/')`,
    [sessionUuid, folder, filename],
  );
  return rowCount;
}

export interface FileRow {
  folder: Folder;
  filename: string;
  content_type: string | null;
  size_bytes: number;
  uploaded_at: Date;
}

/** The rows of one session, folder then name. */
export async function listFileRows(db: Queryable, sessionUuid: string): Promise<FileRow[]> {
  const { rows } = await db.query<FileRow>(
    'SELECT folder, filename, content_type, size_bytes, uploaded_at FROM files WHERE session_id = $1 ORDER BY folder, filename',
    [sessionUuid],
  );
  return rows;
}

/**
 * Makes the rows of one folder match `files` (path inside the folder → size): upserts every
 * file and deletes rows of files that are gone. Used after a code run, which may write anything.
 */
export async function syncFolderRows(
  db: Queryable,
  sessionUuid: string,
  folder: Folder,
  files: ReadonlyMap<string, { size: number }>,
  contentTypeOf: (name: string) => string,
): Promise<void> {
  const names = [...files.keys()];
  await db.query('DELETE FROM files WHERE session_id = $1 AND folder = $2 AND NOT (filename = ANY($3::text[]))', [sessionUuid, folder, names]);
  if (names.length === 0) return;
  await db.query(
    `INSERT INTO files (session_id, folder, filename, content_type, size_bytes)
     SELECT $1, $2, f.filename, f.content_type, f.size_bytes
       FROM unnest($3::text[], $4::text[], $5::bigint[]) AS f(filename, content_type, size_bytes)
     ON CONFLICT (session_id, folder, filename)
     DO UPDATE SET content_type = EXCLUDED.content_type, size_bytes = EXCLUDED.size_bytes,
                   uploaded_at = CASE WHEN files.size_bytes = EXCLUDED.size_bytes THEN files.uploaded_at ELSE now() END`,
    [sessionUuid, folder, names, names.map(contentTypeOf), names.map((n) => files.get(n)?.size ?? 0)],
  );
}
