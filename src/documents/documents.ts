/**
 * The documents capability as the app wires it: the converter, the background indexer, the
 * knowledge search, where library files live on disk, and the hooks the file routes and the
 * tools call. Framework-free; the routes in `http/` translate.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import type { Queryable } from '../db/database.js';
import type { ModelCall, ReportedUsage } from '../usage/model-call.js';
import { parseRelativePath, resolveInside } from '../workspace/jail.js';
import { DocumentConverter, type ConverterOptions } from './convert/converter.js';
import { deleteSessionDocuments, recordStoredFile, sessionDocumentStates, sessionDocumentText, type DocumentOwner, type DocumentState } from './documents-table.js';
import { DocumentIndexer } from './indexer.js';
import { OpenAiEmbedder, type Embedder } from './knowledge/embedder.js';
import { KnowledgeSearch, type SearchHit } from './knowledge/search.js';

export interface DocumentsOptions {
  db: Queryable;
  logger: Logger;
  dataDir: string;
  /** `DATA_DIR/sessions/{public id}` of a session. */
  sessionRoot: (sessionPublicId: string) => string;
  converter?: ConverterOptions;
  /** Set with `EMBEDDING_MODEL`; full-text search only without it. */
  embedder?: Embedder | undefined;
  recordUsage?: (call: ModelCall, model: string, usage: ReportedUsage) => Promise<void>;
}

export class Documents {
  readonly converter: DocumentConverter;
  readonly indexer: DocumentIndexer;
  readonly knowledge: KnowledgeSearch;
  readonly embeddings: boolean;

  constructor(private readonly options: DocumentsOptions) {
    this.converter = new DocumentConverter(options.converter);
    this.embeddings = options.embedder !== undefined;
    this.indexer = new DocumentIndexer({
      db: options.db,
      converter: this.converter,
      embedder: options.embedder,
      logger: options.logger.child({ module: 'documents' }),
      pathOf: (doc) => this.pathOf(doc),
      ...(options.recordUsage ? { recordUsage: options.recordUsage } : {}),
    });
    this.knowledge = new KnowledgeSearch({ db: options.db, embedder: options.embedder });
  }

  /** `DATA_DIR/libraries/{library id}`: a library's files, flat. */
  libraryDir(libraryId: string): string {
    return path.join(this.options.dataDir, 'libraries', libraryId);
  }

  /** A file was stored (uploaded or replaced): queue its conversion. */
  async fileStored(owner: DocumentOwner, folder: string, filename: string, size: number): Promise<void> {
    const id = await recordStoredFile(this.options.db, owner, folder, filename, size);
    if (id) this.indexer.enqueue(id);
  }

  /** A session's file (or a sub-folder) was deleted: its text and chunks go too. */
  filesRemoved(sessionUuid: string, folder: string, filename: string): Promise<void> {
    return deleteSessionDocuments(this.options.db, sessionUuid, folder, filename);
  }

  states(sessionUuid: string, folder: string): Promise<Map<string, DocumentState>> {
    return sessionDocumentStates(this.options.db, sessionUuid, folder);
  }

  text(sessionUuid: string, folder: string, filename: string) {
    return sessionDocumentText(this.options.db, sessionUuid, folder, filename);
  }

  /**
   * Search in a session's documents and its libraries; a query embedding is recorded for the
   * session's owner before the hits are returned, so the ledger holds it once the caller has them.
   */
  async search(session: { id: string; user_id: string }, query: string, limit?: number): Promise<SearchHit[]> {
    let tokens = 0;
    const hits = await this.knowledge.search(session.id, query, limit, (used) => {
      tokens += used;
    });
    const model = this.options.embedder?.model;
    if (model && this.options.recordUsage && tokens > 0) {
      await this.options.recordUsage({ userId: session.user_id, sessionUuid: session.id, turnId: null, purpose: 'embedding' }, model, {
        inputTokens: tokens,
        cachedInputTokens: 0,
        outputTokens: 0,
        reasoningTokens: 0,
      });
    }
    return hits;
  }

  async start(): Promise<void> {
    await this.indexer.start();
  }

  /** Ends the workers at once; a file being converted stays `pending` and is converted at the next start. */
  async close(): Promise<void> {
    const stopped = this.indexer.close();
    await this.converter.close();
    await stopped;
  }

  private async pathOf(doc: { sessionUuid: string | null; libraryId: string | null; folder: string; filename: string }): Promise<string | undefined> {
    let root: string;
    let segments: string[];
    if (doc.libraryId) {
      root = this.libraryDir(doc.libraryId);
      segments = parseRelativePath(doc.filename);
    } else {
      const { rows } = await this.options.db.query<{ session_id: string }>('SELECT session_id FROM sessions WHERE id = $1', [doc.sessionUuid]);
      if (!rows[0]) return undefined;
      root = this.options.sessionRoot(rows[0].session_id);
      segments = [doc.folder, ...parseRelativePath(doc.filename)];
    }
    try {
      const resolved = await resolveInside(await fs.realpath(root), segments);
      return resolved.exists ? resolved.real : undefined;
    } catch {
      return undefined;
    }
  }
}

/** The embedder `EMBEDDING_MODEL` asks for, through the chat model's OpenAI-compatible endpoint. */
export function embedderFor(config: { embeddingModel: string | undefined; baseUrl: string | undefined; apiKey: string | undefined }): Embedder | undefined {
  if (!config.embeddingModel) return undefined;
  return new OpenAiEmbedder({ baseUrl: config.baseUrl ?? 'https://api.openai.com/v1', apiKey: config.apiKey, model: config.embeddingModel });
}
