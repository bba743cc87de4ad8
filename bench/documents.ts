/**
 * `npm run bench:documents`: converting a 100-page PDF in the worker (first file, with the
 * worker's start, and a warm worker), indexing throughput (chunking and writing chunks with their
 * full-text index) and knowledge search over 10 000 chunks — full-text only and with 256-dimension
 * embeddings fused by reciprocal rank. On the embedded database (PGlite); `DATABASE_URL` runs the
 * database parts on PostgreSQL instead. Prints a markdown table.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pino from 'pino';
import type { Database } from '../src/db/database.js';
import { migrate } from '../src/db/migrate.js';
import { createPgliteDatabase } from '../src/db/pglite-driver.js';
import { createPostgresDatabase } from '../src/db/postgres-driver.js';
import { DocumentConverter } from '../src/documents/convert/converter.js';
import { chunkText } from '../src/documents/knowledge/chunker.js';
import { saveChunks } from '../src/documents/knowledge/chunk-store.js';
import { normalize, type Embedder } from '../src/documents/knowledge/embedder.js';
import { KnowledgeSearch } from '../src/documents/knowledge/search.js';
import { PAGE_FACTS, textPdf } from '../test/documents/sample-files.js';
import { fakeEmbedding } from '../test/support/fake-openai.js';
import { median, ms, percentile } from './stats.js';

const WORDS = 'invoice shipment pallet warehouse refund customer supplier contract delivery schedule budget forecast audit policy travel hotel train meeting report quarter revenue margin inventory payroll'.split(' ');
const SEARCHES = 100;

/** The fake provider's embedding, in process: the benchmark measures Pulp, not HTTP. */
const localEmbedder: Embedder = {
  model: 'bench-embed',
  embed: (texts) => Promise.resolve({ vectors: texts.map((t) => normalize(Float32Array.from(fakeEmbedding(t)))), inputTokens: 0 }),
};

function pageText(n: number): string[] {
  return [`Section ${n}`, `${PAGE_FACTS[n % 3]} Page ${n} covers ${WORDS[n % WORDS.length]} and ${WORDS[(n * 7) % WORDS.length]}.`];
}

async function openDatabase(): Promise<Database> {
  const url = process.env.DATABASE_URL;
  const db = url ? createPostgresDatabase({ url, poolMax: 4, statementTimeoutMs: 60_000, logger: pino({ level: 'silent' }) }) : await createPgliteDatabase(undefined);
  await migrate(db);
  return db;
}

async function conversion(dir: string): Promise<{ cold: number; warm: number[] }> {
  const file = path.join(dir, 'hundred.pdf');
  await writeFile(file, await textPdf(Array.from({ length: 100 }, (_, i) => pageText(i + 1))));
  // What `npm start` runs: the compiled worker (from source, tsx compiles it in the worker first).
  const compiled = await import(path.resolve(import.meta.dirname, '../dist/documents/convert/converter.js')).catch(() => undefined);
  const Converter = (compiled as { DocumentConverter?: typeof DocumentConverter } | undefined)?.DocumentConverter ?? DocumentConverter;
  const converter = new Converter();
  try {
    let start = performance.now();
    const first = await converter.convert(file, 'pdf');
    const cold = performance.now() - start;
    if (!first.ok || !first.text.includes('--- page 100 ---')) throw new Error(`conversion failed: ${JSON.stringify(first).slice(0, 200)}`);
    const warm: number[] = [];
    for (let i = 0; i < 5; i++) {
      start = performance.now();
      await converter.convert(file, 'pdf');
      warm.push(performance.now() - start);
    }
    return { cold, warm };
  } finally {
    await converter.close();
  }
}

async function main(): Promise<void> {
  const dir = await mkdtemp(path.join(tmpdir(), 'pulp-bench-docs-'));
  const db = await openDatabase();
  try {
    const pdf = await conversion(dir);

    const user = await db.query<{ id: string }>("INSERT INTO users (email) VALUES ('bench@example.com') RETURNING id");
    const session = await db.query<{ id: string }>("INSERT INTO sessions (user_id, session_id, model) VALUES ($1, 'chat_0000000bench', 'm') RETURNING id", [user.rows[0]!.id]);
    const sessionUuid = session.rows[0]!.id;
    // 20 documents × 500 pages of one chunk each: 10 000 chunks.
    const text = Array.from({ length: 500 }, (_, i) => `--- page ${i + 1} ---\n${pageText(i + 1).join('\n')}`).join('\n\n');
    let chunks = 0;
    let indexMs = 0;
    for (let d = 0; d < 20; d++) {
      const doc = await db.query<{ id: string }>(
        "INSERT INTO documents (session_id, folder, filename, conversion_status, indexing_status) VALUES ($1, 'input', $2, 'done', 'done') RETURNING id",
        [sessionUuid, `doc-${d}.pdf`],
      );
      const start = performance.now();
      const pieces = chunkText(text);
      const { vectors } = await localEmbedder.embed(pieces.map((c) => c.content));
      await saveChunks(db, doc.rows[0]!.id, pieces, vectors);
      await db.query('UPDATE documents SET chunk_count = $2 WHERE id = $1', [doc.rows[0]!.id, pieces.length]);
      indexMs += performance.now() - start;
      chunks += pieces.length;
    }

    // Each question full-text only, then with vectors, one after the other: the machine's load
    // weighs on both alike, and the difference per question is what the vectors cost.
    const ftsSearch = new KnowledgeSearch({ db });
    const hybridSearch = new KnowledgeSearch({ db, embedder: localEmbedder });
    const timed = async (search: KnowledgeSearch, question: string) => {
      const start = performance.now();
      await search.search(sessionUuid, question);
      return performance.now() - start;
    };
    await timed(ftsSearch, 'warmup question about pallets');
    await timed(hybridSearch, 'warmup question about pallets');
    const fts: number[] = [];
    const hybrid: number[] = [];
    const added: number[] = [];
    for (let i = 0; i < SEARCHES; i++) {
      const question = `How is the ${WORDS[i % WORDS.length]} for the ${WORDS[(i * 3) % WORDS.length]} handled?`;
      fts.push(await timed(ftsSearch, question));
      hybrid.push(await timed(hybridSearch, question));
      added.push(hybrid.at(-1)! - fts.at(-1)!);
    }

    const driver = process.env.DATABASE_URL ? 'PostgreSQL' : 'PGlite';
    console.log(`| measure (${driver}) | result |\n|---|---|`);
    console.log(`| 100-page PDF, first file (worker start included) | ${ms(pdf.cold)} |`);
    console.log(`| 100-page PDF, warm worker (median of 5) | ${ms(median(pdf.warm))} |`);
    console.log(`| indexing: chunk + embed (in process) + write, ${chunks} chunks | ${Math.round(chunks / (indexMs / 1000))} chunks/s |`);
    console.log(`| search over ${chunks} chunks, full text (median / p95 of ${SEARCHES}) | ${ms(median(fts))} / ${ms(percentile(fts, 95))} |`);
    console.log(`| search over ${chunks} chunks, full text + vectors, RRF (median / p95) | ${ms(median(hybrid))} / ${ms(percentile(hybrid, 95))} |`);
    console.log(`| … added by the vectors, same question (median) | ${ms(median(added))} |`);
  } finally {
    await db.close();
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
