/** Writes a document's chunks (with their embeddings) in batches that fit any driver's parameter limit. */
import type { Queryable } from '../../db/database.js';
import type { Chunk } from './chunker.js';
import { toBytes } from './embedder.js';

// Small batches: the embedded database has one connection, and a chat's statements wait behind each
// insert (to_tsvector included) of a long document. Each batch is a statement of its own, queued
// once the one before has answered, so the statements other callers queued meanwhile go between them.
const ROWS_PER_INSERT = 10;

/** Replaces the chunks of `documentId`. */
export async function saveChunks(db: Queryable, documentId: string, chunks: readonly Chunk[], vectors?: readonly Float32Array[]): Promise<void> {
  await db.query('DELETE FROM document_chunks WHERE document_id = $1', [documentId]);
  for (let start = 0; start < chunks.length; start += ROWS_PER_INSERT) {
    const batch = chunks.slice(start, start + ROWS_PER_INSERT);
    const vectorBatch = vectors?.slice(start, start + ROWS_PER_INSERT);
    await db.query(
      `INSERT INTO document_chunks (document_id, ordinal, page, section, content, embedding)
       SELECT $1, c.ordinal, c.page, c.section, c.content, CASE WHEN c.embedding = '' THEN NULL ELSE decode(c.embedding, 'base64') END
         FROM unnest($2::int[], $3::int[], $4::text[], $5::text[], $6::text[]) AS c(ordinal, page, section, content, embedding)`,
      [
        documentId,
        batch.map((c) => c.ordinal),
        batch.map((c) => c.page),
        batch.map((c) => c.section),
        batch.map((c) => c.content),
        // Base64 text: arrays of bytea are encoded differently by the two drivers; text is not.
        batch.map((_, i) => (vectorBatch?.[i] ? toBytes(vectorBatch[i]).toString('base64') : '')),
      ],
    );
  }
}
