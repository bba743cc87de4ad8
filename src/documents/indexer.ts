/**
 * The background pipeline after an upload: convert (in a worker thread), store the text, chunk,
 * embed (when an embeddings model is set) and save the chunks. One document at a time, in the
 * order they arrive; never on a turn's path. `start()` picks up what a previous run left
 * `pending`. Work on a file that was replaced meanwhile (a newer revision) is dropped.
 */
import type { Logger } from 'pino';
import type { Queryable } from '../db/database.js';
import type { ModelCall, ReportedUsage } from '../usage/model-call.js';
import type { DocumentConverter } from './convert/converter.js';
import { formatOf } from './convert/formats.js';
import { chunkText } from './knowledge/chunker.js';
import { saveChunks } from './knowledge/chunk-store.js';
import type { Embedder } from './knowledge/embedder.js';

interface DocumentRow {
  id: string;
  session_id: string | null;
  library_id: string | null;
  folder: string;
  filename: string;
  revision: number;
  conversion_status: string;
  indexing_status: string | null;
  text_content: string | null;
  user_id: string;
}

export interface IndexerDeps {
  db: Queryable;
  converter: Pick<DocumentConverter, 'convert'>;
  embedder?: Embedder | undefined;
  logger: Logger;
  /** The real path of a document's file, resolved through the jail; undefined when it is gone. */
  pathOf: (doc: { sessionUuid: string | null; libraryId: string | null; folder: string; filename: string }) => Promise<string | undefined>;
  recordUsage?: (call: ModelCall, model: string, usage: ReportedUsage) => Promise<void>;
}

export class DocumentIndexer {
  private readonly queue: string[] = [];
  private running: Promise<void> | undefined;
  private closed = false;
  private readonly idleWaiters: Array<() => void> = [];

  constructor(private readonly deps: IndexerDeps) {}

  /** Queues every document left pending (by a restart or a crash). */
  async start(): Promise<void> {
    const { rows } = await this.deps.db.query<{ id: string }>(
      "SELECT id FROM documents WHERE conversion_status = 'pending' OR indexing_status = 'pending' ORDER BY updated_at",
    );
    for (const { id } of rows) this.enqueue(id);
  }

  enqueue(documentId: string): void {
    if (this.closed) return;
    if (!this.queue.includes(documentId)) this.queue.push(documentId);
    this.running ??= this.drain().finally(() => {
      this.running = undefined;
      for (const resolve of this.idleWaiters.splice(0)) resolve();
    });
  }

  /** Resolves when the queue is empty (tests, shutdown). */
  whenIdle(): Promise<void> {
    if (!this.running) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Stops taking work; what is under way writes nothing more and stays `pending` for the next start. */
  async close(): Promise<void> {
    this.closed = true;
    this.queue.length = 0;
    await this.running;
  }

  private async drain(): Promise<void> {
    for (let id = this.queue.shift(); id !== undefined && !this.closed; id = this.queue.shift()) {
      try {
        await this.process(id);
      } catch (err) {
        this.deps.logger.error({ err, document_id: id }, 'indexing a document failed');
        await this.deps.db
          .query("UPDATE documents SET indexing_status = 'failed', indexing_error = 'Indexing failed; upload the file again.' WHERE id = $1 AND indexing_status = 'pending'", [id])
          .catch(() => undefined);
      }
    }
  }

  private async load(id: string): Promise<DocumentRow | undefined> {
    const { rows } = await this.deps.db.query<DocumentRow>(
      `SELECT d.id, d.session_id, d.library_id, d.folder, d.filename, d.revision, d.conversion_status, d.indexing_status, d.text_content,
              COALESCE(s.user_id, l.user_id) AS user_id
         FROM documents d LEFT JOIN sessions s ON s.id = d.session_id LEFT JOIN libraries l ON l.id = d.library_id
        WHERE d.id = $1`,
      [id],
    );
    return rows[0];
  }

  private async process(id: string): Promise<void> {
    let doc = await this.load(id);
    if (!doc) return;
    if (doc.conversion_status === 'pending') {
      await this.convert(doc);
      doc = await this.load(id);
      if (!doc) return;
    }
    if (doc.indexing_status === 'pending' && doc.text_content !== null) await this.index(doc, doc.text_content);
  }

  private async convert(doc: DocumentRow): Promise<void> {
    const format = formatOf(doc.filename);
    const file = format ? await this.deps.pathOf({ sessionUuid: doc.session_id, libraryId: doc.library_id, folder: doc.folder, filename: doc.filename }) : undefined;
    const answer = !format
      ? ({ ok: false, status: 'unsupported', error: 'Pulp does not read this file type; it can be downloaded.' } as const)
      : !file
        ? ({ ok: false, status: 'failed', error: 'The file is gone.' } as const)
        : await this.deps.converter.convert(file, format);
    // Stopped by a shutdown: the row stays pending and the next start converts it.
    if (this.closed) return;
    await this.deps.db.query(
      `UPDATE documents SET conversion_status = $3, conversion_error = $4, text_content = $5, pages = $6,
              indexing_status = CASE WHEN $3 = 'done' THEN 'pending' ELSE NULL END, updated_at = now()
        WHERE id = $1 AND revision = $2`,
      answer.ok
        ? [doc.id, doc.revision, 'done', answer.truncated ? 'Only part of the file was converted (a size limit).' : null, answer.text, answer.pages ?? null]
        : [doc.id, doc.revision, answer.status, answer.error, null, null],
    );
  }

  private async index(doc: DocumentRow, text: string): Promise<void> {
    const chunks = chunkText(text);
    let vectors: Float32Array[] | undefined;
    let embeddingError: string | null = null;
    const { embedder } = this.deps;
    if (embedder && chunks.length > 0) {
      try {
        const embedded = await embedder.embed(chunks.map((c) => (c.section ? `${c.section}\n${c.content}` : c.content)));
        vectors = embedded.vectors;
        await this.deps.recordUsage?.(
          { userId: doc.user_id, sessionUuid: doc.session_id, turnId: null, purpose: 'embedding' },
          embedder.model,
          { inputTokens: embedded.inputTokens, cachedInputTokens: 0, outputTokens: 0, reasoningTokens: 0 },
        );
      } catch (err) {
        // The chunks are still saved: full-text search works without vectors.
        embeddingError = `Embedding failed (${(err as Error).message}); the document is searchable by words only.`;
      }
    }
    if (this.closed) return;
    const current = await this.load(doc.id);
    if (!current || current.revision !== doc.revision) return;
    await saveChunks(this.deps.db, doc.id, chunks, vectors);
    await this.deps.db.query(
      `UPDATE documents SET indexing_status = $3, indexing_error = $4, chunk_count = $5, updated_at = now() WHERE id = $1 AND revision = $2`,
      [doc.id, doc.revision, embeddingError ? 'failed' : 'done', embeddingError, chunks.length],
    );
  }
}
