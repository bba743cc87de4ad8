/**
 * Knowledge search over a session's documents and the libraries attached to it (only libraries
 * of the session's own user): PostgreSQL full-text search (any of the query's words, ranked by
 * `ts_rank_cd`) and, with embeddings, cosine similarity computed here over the scope's vectors,
 * fused by reciprocal rank. Document vectors are cached by document revision, bounded in bytes.
 */
import type { Queryable } from '../../db/database.js';
import { dot, fromBytes, type Embedder } from './embedder.js';

export interface SearchHit {
  /** `input/report.pdf` for a session file, `Library name/file.pdf` for a library document. */
  file: string;
  page: number | null;
  section: string | null;
  text: string;
  score: number;
  source: { kind: 'session'; folder: string; path: string } | { kind: 'library'; library_id: string; library: string; document_id: string };
}

export const MAX_RESULTS = 20;
/** Candidates each ranking contributes before fusion. */
const CANDIDATES = 50;
/** Reciprocal rank fusion constant (the usual 60). */
const RRF_K = 60;
/** Vectors compared per search at most; beyond this the search is full-text only for the rest. */
export const MAX_VECTOR_CHUNKS = 100_000;

const SCOPE = `d.session_id = $1 OR d.library_id IN (
  SELECT sl.library_id FROM session_libraries sl
    JOIN libraries l ON l.id = sl.library_id JOIN sessions s ON s.id = sl.session_id
   WHERE sl.session_id = $1 AND l.user_id = s.user_id)`;

interface CachedVectors {
  revision: number;
  ids: string[];
  vectors: Float32Array[];
  bytes: number;
}

export class KnowledgeSearch {
  private readonly cache = new Map<string, CachedVectors>();
  private cachedBytes = 0;

  constructor(private readonly deps: { db: Queryable; embedder?: Embedder | undefined; maxCacheBytes?: number }) {}

  /** Ranked hits for `query` in the session's scope; `limit` ≤ 20; `embedQuery` learns the query embedding's tokens. */
  async search(sessionUuid: string, query: string, limit = 8, embedQuery?: (tokens: number) => void): Promise<SearchHit[]> {
    const k = Math.min(Math.max(1, limit), MAX_RESULTS);
    const { embedder } = this.deps;
    if (!embedder) return this.hydrate((await this.fullText(sessionUuid, query)).slice(0, k));
    // The query's embedding (a provider call) is awaited while the database ranks the text.
    const [fts, vector] = await Promise.all([
      this.fullText(sessionUuid, query),
      embedder.embed([query]).then(({ vectors, inputTokens }) => {
        embedQuery?.(inputTokens);
        return this.vectorRanks(sessionUuid, vectors[0]!);
      }),
    ]);
    return this.hydrate(fuse([fts, vector]).slice(0, k));
  }

  private async fullText(sessionUuid: string, query: string): Promise<Array<{ id: string; score: number }>> {
    // plainto_tsquery joins the words with AND; a question rarely has all of a passage's words,
    // so any of them may match and the rank orders by how many and how close.
    const { rows } = await this.deps.db.query<{ id: string; rank: number }>(
      `WITH q AS (SELECT replace(plainto_tsquery('english', $2)::text, ' & ', ' | ') AS text)
       SELECT c.id::text AS id, ts_rank_cd(c.tsv, q.text::tsquery) AS rank
         FROM document_chunks c JOIN documents d ON d.id = c.document_id, q
        WHERE q.text <> '' AND (${SCOPE}) AND c.tsv @@ q.text::tsquery
        ORDER BY rank DESC, c.id LIMIT ${CANDIDATES}`,
      [sessionUuid, query.slice(0, 2000)],
    );
    return rows.map((r) => ({ id: r.id, score: Number(r.rank) }));
  }

  private async vectorRanks(sessionUuid: string, query: Float32Array): Promise<Array<{ id: string; score: number }>> {
    const { rows: docs } = await this.deps.db.query<{ id: string; revision: number }>(
      `SELECT d.id, d.revision FROM documents d WHERE (${SCOPE}) AND d.chunk_count > 0 ORDER BY d.created_at LIMIT 10000`,
      [sessionUuid],
    );
    // The best CANDIDATES so far, kept sorted (a short list: cheaper than sorting every score).
    const best: Array<{ id: string; score: number }> = [];
    let compared = 0;
    for (const doc of docs) {
      const vectors = await this.vectorsOf(doc.id, doc.revision);
      for (let i = 0; i < vectors.ids.length && compared < MAX_VECTOR_CHUNKS; i++, compared++) {
        const score = dot(query, vectors.vectors[i]!);
        if (best.length === CANDIDATES && score <= best[CANDIDATES - 1]!.score) continue;
        let at = best.length;
        while (at > 0 && best[at - 1]!.score < score) at--;
        best.splice(at, 0, { id: vectors.ids[i]!, score });
        if (best.length > CANDIDATES) best.pop();
      }
    }
    return best;
  }

  private async vectorsOf(documentId: string, revision: number): Promise<CachedVectors> {
    const cached = this.cache.get(documentId);
    if (cached && cached.revision === revision) {
      // Most recently used last.
      this.cache.delete(documentId);
      this.cache.set(documentId, cached);
      return cached;
    }
    const { rows } = await this.deps.db.query<{ id: string; embedding: Uint8Array }>(
      'SELECT id::text AS id, embedding FROM document_chunks WHERE document_id = $1 AND embedding IS NOT NULL ORDER BY ordinal',
      [documentId],
    );
    const entry: CachedVectors = { revision, ids: rows.map((r) => r.id), vectors: rows.map((r) => fromBytes(r.embedding)), bytes: 0 };
    entry.bytes = entry.vectors.reduce((sum, v) => sum + v.byteLength, 0);
    if (cached) this.cachedBytes -= cached.bytes;
    this.cache.set(documentId, entry);
    this.cachedBytes += entry.bytes;
    const max = this.deps.maxCacheBytes ?? 256 * 1024 * 1024;
    for (const [id, old] of this.cache) {
      if (this.cachedBytes <= max || id === documentId) break;
      this.cache.delete(id);
      this.cachedBytes -= old.bytes;
    }
    return entry;
  }

  private async hydrate(ranked: Array<{ id: string; score: number }>): Promise<SearchHit[]> {
    if (ranked.length === 0) return [];
    const { rows } = await this.deps.db.query<{
      id: string;
      page: number | null;
      section: string | null;
      content: string;
      folder: string;
      filename: string;
      document_id: string;
      library_id: string | null;
      library_name: string | null;
    }>(
      `SELECT c.id::text AS id, c.page, c.section, c.content, d.folder, d.filename, d.id AS document_id, d.library_id, l.name AS library_name
         FROM document_chunks c JOIN documents d ON d.id = c.document_id LEFT JOIN libraries l ON l.id = d.library_id
        WHERE c.id = ANY($1::bigint[])`,
      [ranked.map((r) => r.id)],
    );
    const byId = new Map(rows.map((r) => [r.id, r]));
    return ranked.flatMap(({ id, score }) => {
      const r = byId.get(id);
      if (!r) return [];
      const source: SearchHit['source'] =
        r.library_id !== null
          ? { kind: 'library', library_id: r.library_id, library: r.library_name ?? '', document_id: r.document_id }
          : { kind: 'session', folder: r.folder, path: r.filename };
      const file = r.library_id !== null ? `${r.library_name ?? 'library'}/${r.filename}` : `${r.folder}/${r.filename}`;
      return [{ file, page: r.page, section: r.section, text: r.content, score: Math.round(score * 1e6) / 1e6, source }];
    });
  }
}

/** Reciprocal rank fusion of several rankings. */
export function fuse(rankings: ReadonlyArray<ReadonlyArray<{ id: string }>>): Array<{ id: string; score: number }> {
  const scores = new Map<string, number>();
  for (const ranking of rankings) ranking.forEach(({ id }, rank) => scores.set(id, (scores.get(id) ?? 0) + 1 / (RRF_K + rank + 1)));
  return [...scores].map(([id, score]) => ({ id, score })).sort((a, b) => b.score - a.score);
}
