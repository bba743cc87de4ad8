/**
 * Knowledge search over a session's documents and the libraries attached to it (only libraries
 * of the session's own user): PostgreSQL full-text search (any of the query's words, ranked by
 * `ts_rank_cd`) and, with embeddings, cosine similarity computed here over the scope's vectors,
 * fused by reciprocal rank. Document vectors are cached by document revision, bounded in bytes.
 */
import type { Queryable } from '../../db/database.js';
import type { Embedder } from './embedder.js';

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

/** One document revision's embeddings: row `i` of `matrix` (`dim` floats) is chunk `ids[i]`. */
interface CachedVectors {
  revision: number;
  ids: string[];
  matrix: Float32Array;
  dim: number;
}

type Ranked = Array<{ id: string; score: number }>;

export class KnowledgeSearch {
  private readonly cache = new Map<string, CachedVectors>();
  private cachedBytes = 0;

  constructor(private readonly deps: { db: Queryable; embedder?: Embedder | undefined; maxCacheBytes?: number }) {}

  /** Ranked hits for `query` in the session's scope; `limit` ≤ 20; `embedQuery` learns the query embedding's tokens. */
  async search(sessionUuid: string, query: string, limit = 8, embedQuery?: (tokens: number) => void): Promise<SearchHit[]> {
    const k = Math.min(Math.max(1, limit), MAX_RESULTS);
    const { embedder } = this.deps;
    if (!embedder) return this.hydrate((await this.fullText(sessionUuid, query)).slice(0, k));
    // The scope's vectors load (from the cache, or the database) while the provider embeds the
    // query, and the vector ranking runs as soon as both are there, while the database may still
    // be ranking the text.
    const embedded = embedder.embed([query]).then(({ vectors, inputTokens }) => {
      embedQuery?.(inputTokens);
      return vectors[0]!;
    });
    const [fts, vector] = await Promise.all([
      this.fullText(sessionUuid, query),
      Promise.all([embedded, this.scopeVectors(sessionUuid)]).then(([queryVector, scope]) => nearest(scope, queryVector)),
    ]);
    return this.hydrate(fuse([fts, vector]).slice(0, k));
  }

  private async fullText(sessionUuid: string, query: string): Promise<Ranked> {
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

  /** The vectors of the scope's documents, oldest document first. */
  private async scopeVectors(sessionUuid: string): Promise<CachedVectors[]> {
    const { rows: docs } = await this.deps.db.query<{ id: string; revision: number }>(
      `SELECT d.id, d.revision FROM documents d WHERE (${SCOPE}) AND d.chunk_count > 0 ORDER BY d.created_at LIMIT 10000`,
      [sessionUuid],
    );
    const scope: CachedVectors[] = [];
    for (const doc of docs) scope.push(await this.vectorsOf(doc.id, doc.revision));
    return scope;
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
    const entry = toMatrix(revision, rows);
    if (cached) this.cachedBytes -= cached.matrix.byteLength;
    this.cache.set(documentId, entry);
    this.cachedBytes += entry.matrix.byteLength;
    const max = this.deps.maxCacheBytes ?? 256 * 1024 * 1024;
    for (const [id, old] of this.cache) {
      if (this.cachedBytes <= max || id === documentId) break;
      this.cache.delete(id);
      this.cachedBytes -= old.matrix.byteLength;
    }
    return entry;
  }

  private async hydrate(ranked: Ranked): Promise<SearchHit[]> {
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

/**
 * One contiguous matrix per document: the bytes are copied straight into it (a driver's buffer
 * may not be 4-byte aligned), and the scan reads one typed array instead of one per chunk. A
 * revision's vectors come from one model, so they share a length; any other row is left out.
 */
function toMatrix(revision: number, rows: ReadonlyArray<{ id: string; embedding: Uint8Array }>): CachedVectors {
  const width = rows[0]?.embedding.byteLength ?? 0;
  const kept = rows.filter((r) => r.embedding.byteLength === width && width % 4 === 0 && width > 0);
  const bytes = new Uint8Array(kept.length * width);
  kept.forEach((r, i) => bytes.set(r.embedding, i * width));
  return { revision, ids: kept.map((r) => r.id), matrix: new Float32Array(bytes.buffer), dim: width / 4 };
}

/**
 * The CANDIDATES chunks nearest the query (dot products of normalised vectors, i.e. cosine), best
 * first; among equal scores the earlier document and chunk first. At most MAX_VECTOR_CHUNKS are
 * compared. The best so far stay in a short sorted list behind a floor score, so almost every chunk
 * costs one dot product and one comparison.
 */
export function nearest(scope: ReadonlyArray<Pick<CachedVectors, 'ids' | 'matrix' | 'dim'>>, query: Float32Array): Ranked {
  const best: Ranked = [];
  let floor = -Infinity;
  let budget = MAX_VECTOR_CHUNKS;
  for (const { ids, matrix, dim } of scope) {
    const n = Math.min(query.length, dim);
    const rows = Math.min(ids.length, budget);
    budget -= rows;
    const unrolled = n - (n % 4);
    for (let row = 0, at = 0; row < rows; row++, at += dim) {
      // Four products a step, added in the same order as one at a time: the same sums, bit for bit.
      let score = 0;
      let j = 0;
      for (; j < unrolled; j += 4) {
        score += query[j]! * matrix[at + j]!;
        score += query[j + 1]! * matrix[at + j + 1]!;
        score += query[j + 2]! * matrix[at + j + 2]!;
        score += query[j + 3]! * matrix[at + j + 3]!;
      }
      for (; j < n; j++) score += query[j]! * matrix[at + j]!;
      if (best.length === CANDIDATES && score <= floor) continue;
      let place = best.length;
      while (place > 0 && best[place - 1]!.score < score) place--;
      best.splice(place, 0, { id: ids[row]!, score });
      if (best.length > CANDIDATES) best.pop();
      if (best.length === CANDIDATES) floor = best[CANDIDATES - 1]!.score;
    }
    if (budget === 0) break;
  }
  return best;
}

/** Reciprocal rank fusion of several rankings. */
export function fuse(rankings: ReadonlyArray<ReadonlyArray<{ id: string }>>): Array<{ id: string; score: number }> {
  const scores = new Map<string, number>();
  for (const ranking of rankings) ranking.forEach(({ id }, rank) => scores.set(id, (scores.get(id) ?? 0) + 1 / (RRF_K + rank + 1)));
  return [...scores].map(([id, score]) => ({ id, score })).sort((a, b) => b.score - a.score);
}
