/**
 * The `documents` rows: one per source file of a session (`input`/`output`) or a library, with
 * its conversion and indexing state and its converted text. Chunks cascade with the row.
 */
import type { Queryable } from '../db/database.js';
import { formatOf } from './convert/formats.js';

export type ConversionStatus = 'pending' | 'done' | 'failed' | 'unsupported' | 'no_text';
export type IndexingStatus = 'pending' | 'done' | 'failed';

export interface DocumentOwner {
  sessionUuid?: string;
  libraryId?: string;
}

export interface DocumentState {
  filename: string;
  folder: string;
  conversion: { status: ConversionStatus; error?: string };
  indexing: IndexingStatus | null;
  indexing_error?: string;
}

interface StateRow {
  filename: string;
  folder: string;
  conversion_status: ConversionStatus;
  conversion_error: string | null;
  indexing_status: IndexingStatus | null;
  indexing_error: string | null;
}

const toState = (r: StateRow): DocumentState => ({
  filename: r.filename,
  folder: r.folder,
  conversion: { status: r.conversion_status, ...(r.conversion_error ? { error: r.conversion_error } : {}) },
  indexing: r.indexing_status,
  ...(r.indexing_error ? { indexing_error: r.indexing_error } : {}),
});

/**
 * Records a stored (new or replaced) file: a fresh revision, `pending` when Pulp converts its
 * format and `unsupported` otherwise; its old chunks go at once. Returns the row id when there is
 * work for the indexer.
 */
export async function recordStoredFile(db: Queryable, owner: DocumentOwner, folder: string, filename: string, size: number): Promise<string | undefined> {
  const supported = formatOf(filename) !== undefined;
  const status = supported ? 'pending' : 'unsupported';
  const error = supported ? null : 'Pulp does not read this file type; it can be downloaded.';
  const conflict = owner.sessionUuid ? '(session_id, folder, filename) WHERE session_id IS NOT NULL' : '(library_id, filename) WHERE library_id IS NOT NULL';
  const { rows } = await db.query<{ id: string }>(
    `WITH stored AS (
       INSERT INTO documents (session_id, library_id, folder, filename, size_bytes, conversion_status, conversion_error, indexing_status)
       VALUES ($1, $2, $3, $4, $5, $6, $7, NULL)
       ON CONFLICT ${conflict} DO UPDATE SET
         size_bytes = EXCLUDED.size_bytes, revision = documents.revision + 1, conversion_status = EXCLUDED.conversion_status,
         conversion_error = EXCLUDED.conversion_error, indexing_status = NULL, indexing_error = NULL, text_content = NULL,
         pages = NULL, chunk_count = 0, updated_at = now()
       RETURNING id
     ), cleared AS (DELETE FROM document_chunks WHERE document_id IN (SELECT id FROM stored))
     SELECT id FROM stored`,
    [owner.sessionUuid ?? null, owner.libraryId ?? null, folder, filename, size, status, error],
  );
  return supported ? rows[0]?.id : undefined;
}

/** Deletes the rows (and chunks) of a session's file or of everything under a sub-folder. */
export async function deleteSessionDocuments(db: Queryable, sessionUuid: string, folder: string, filename: string): Promise<void> {
  await db.query(
    `DELETE FROM documents WHERE session_id = $1 AND folder = $2 AND (filename = $3 OR left(filename, length($3) + 1) = $3 || '/')`,
    [sessionUuid, folder, filename],
  );
}

/** Conversion and indexing state of a session folder's files, by name inside the folder. */
export async function sessionDocumentStates(db: Queryable, sessionUuid: string, folder: string): Promise<Map<string, DocumentState>> {
  const { rows } = await db.query<StateRow>(
    'SELECT filename, folder, conversion_status, conversion_error, indexing_status, indexing_error FROM documents WHERE session_id = $1 AND folder = $2',
    [sessionUuid, folder],
  );
  return new Map(rows.map((r) => [r.filename, toState(r)]));
}

export interface LibraryDocumentRow extends DocumentState {
  id: string;
  size: number;
  pages: number | null;
  chunks: number;
  uploaded_at: string;
}

export async function libraryDocuments(db: Queryable, libraryId: string): Promise<LibraryDocumentRow[]> {
  const { rows } = await db.query<StateRow & { id: string; size_bytes: string | number; pages: number | null; chunk_count: number; created_at: Date }>(
    `SELECT id, filename, folder, conversion_status, conversion_error, indexing_status, indexing_error, size_bytes, pages, chunk_count, updated_at AS created_at
       FROM documents WHERE library_id = $1 ORDER BY filename`,
    [libraryId],
  );
  return rows.map((r) => ({ ...toState(r), id: r.id, size: Number(r.size_bytes), pages: r.pages, chunks: r.chunk_count, uploaded_at: r.created_at.toISOString() }));
}

/** The converted text of a session's file, with its state; undefined without a row. */
export async function sessionDocumentText(
  db: Queryable,
  sessionUuid: string,
  folder: string,
  filename: string,
): Promise<{ state: DocumentState; text: string | null } | undefined> {
  const { rows } = await db.query<StateRow & { text_content: string | null }>(
    'SELECT filename, folder, conversion_status, conversion_error, indexing_status, indexing_error, text_content FROM documents WHERE session_id = $1 AND folder = $2 AND filename = $3',
    [sessionUuid, folder, filename],
  );
  const row = rows[0];
  return row ? { state: toState(row), text: row.text_content } : undefined;
}
