/**
 * The vector half of knowledge search against a brute-force reference: every chunk's cosine with
 * the query, sorted (ties in document then chunk order), the best 50 fused by reciprocal rank.
 * Pins the ranking (identical vectors included) and that a new revision's vectors replace the
 * cached ones.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { saveChunks } from '../../src/documents/knowledge/chunk-store.js';
import { normalize, type Embedder } from '../../src/documents/knowledge/embedder.js';
import { fuse, KnowledgeSearch, MAX_RESULTS } from '../../src/documents/knowledge/search.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';

const DIM = 37; // not a multiple of four: the scan's remainder is exercised
/** A query whose words are in no chunk: the ranking is the vectors' alone. */
const QUERY = 'zyxwvut';

/** A deterministic pseudo-random unit vector. */
function vector(seed: number): Float32Array {
  let x = seed * 2654435761 + 1;
  const v = Float32Array.from({ length: DIM }, () => {
    x = (x * 1103515245 + 12345) % 2147483648;
    return x / 2147483648 - 0.5;
  });
  return normalize(v);
}

const queryVector = vector(999);
const embedder: Embedder = { model: 'test-embed', embed: (texts) => Promise.resolve({ vectors: texts.map(() => queryVector), inputTokens: 1 }) };

describe('vector ranking', () => {
  let t: TestDatabase;
  let sessionUuid: string;
  /** Every stored chunk in document then chunk order: `file#page` and its vector. */
  const stored: Array<{ key: string; vector: Float32Array }> = [];

  const addDocument = async (name: string, vectors: Float32Array[]) => {
    const doc = await t.db.query<{ id: string }>(
      "INSERT INTO documents (session_id, folder, filename, conversion_status, indexing_status, chunk_count, created_at) VALUES ($1, 'input', $2, 'done', 'done', $3, now() + make_interval(secs => $4)) RETURNING id",
      [sessionUuid, name, vectors.length, stored.length],
    );
    const chunks = vectors.map((_, i) => ({ ordinal: i, page: i + 1, section: null, content: `chunk ${i} of ${name}` }));
    await saveChunks(t.db, doc.rows[0]!.id, chunks, vectors);
    return doc.rows[0]!.id;
  };

  /** What the search should answer: brute force over every vector, then the same fusion. */
  const reference = (entries: ReadonlyArray<{ key: string; vector: Float32Array }>) => {
    const scored = entries.map(({ key, vector: v }, order) => ({ id: key, order, score: v.reduce((sum, x, i) => sum + x * queryVector[i]!, 0) }));
    scored.sort((a, b) => b.score - a.score || a.order - b.order);
    return fuse([[], scored.slice(0, 50)])
      .slice(0, MAX_RESULTS)
      .map((r) => r.id);
  };

  beforeAll(async () => {
    t = await createTestDatabase();
    const user = await t.db.query<{ id: string }>("INSERT INTO users (email) VALUES ('ranking@example.com') RETURNING id");
    const session = await t.db.query<{ id: string }>("INSERT INTO sessions (user_id, session_id, model) VALUES ($1, 'chat_0000000rank', 'm') RETURNING id", [user.rows[0]!.id]);
    sessionUuid = session.rows[0]!.id;
    for (let d = 0; d < 4; d++) {
      const vectors = Array.from({ length: 60 }, (_, i) => vector(d * 1000 + i));
      // Copies of one vector in two documents and twice in one: equal scores keep document then chunk order.
      if (d === 1) vectors[5] = vectors[6] = queryVector;
      if (d === 3) vectors[59] = queryVector;
      await addDocument(`doc-${d}.pdf`, vectors);
      vectors.forEach((v, i) => stored.push({ key: `input/doc-${d}.pdf#${i + 1}`, vector: v }));
    }
  }, 60_000);

  afterAll(async () => {
    await t?.drop();
  });

  const ranked = async (search: KnowledgeSearch) => (await search.search(sessionUuid, QUERY, MAX_RESULTS)).map((h) => `${h.file}#${h.page}`);

  it('ranks chunks as a full sort of their cosines with the query does, equal scores in document and chunk order', async () => {
    const search = new KnowledgeSearch({ db: t.db, embedder });
    const expected = reference(stored);
    expect(expected.slice(0, 3)).toEqual(['input/doc-1.pdf#6', 'input/doc-1.pdf#7', 'input/doc-3.pdf#60']);
    expect(await ranked(search)).toEqual(expected);
    // Answered again from the cached vectors: the same.
    expect(await ranked(search)).toEqual(expected);
  });

  it("a document's new revision replaces its cached vectors", async () => {
    const search = new KnowledgeSearch({ db: t.db, embedder });
    await ranked(search);
    const doc = await t.db.query<{ id: string }>("SELECT id FROM documents WHERE filename = 'doc-0.pdf'");
    const fresh = Array.from({ length: 60 }, (_, i) => (i === 10 ? queryVector : vector(5000 + i)));
    await saveChunks(t.db, doc.rows[0]!.id, fresh.map((_, i) => ({ ordinal: i, page: i + 1, section: null, content: `chunk ${i}` })), fresh);
    await t.db.query('UPDATE documents SET revision = revision + 1 WHERE id = $1', [doc.rows[0]!.id]);
    const now = stored.map((s, i) => (i < 60 ? { key: s.key, vector: fresh[i]! } : s));
    const answer = await ranked(search);
    expect(answer[0]).toBe('input/doc-0.pdf#11');
    expect(answer).toEqual(reference(now));
  });
});
