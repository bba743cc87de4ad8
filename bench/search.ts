/**
 * `npm run bench:search`: full-text search over 100 000 messages. Fills a fresh PostgreSQL
 * database (and, for information, an in-memory PGlite one) with 50 users × 20 sessions × 100
 * messages of real English prose — sentences of the Markdown documentation under node_modules,
 * short for the user, longer for the assistant — then runs varied queries as random users through
 * the search SQL the route uses and prints the median and 99th percentile per kind of query.
 * Needs TEST_DATABASE_URL (PGlite only without it).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import pino from 'pino';
import type { Database } from '../src/db/database.js';
import { createPgliteDatabase } from '../src/db/pglite-driver.js';
import { createPostgresDatabase } from '../src/db/postgres-driver.js';
import { migrate } from '../src/db/migrate.js';
import { searchOwnText } from '../src/search/search-store.js';
import { createEmptyPostgresDatabase, TEST_DATABASE_URL } from '../test/support/database.js';
import { median, percentile } from './stats.js';

const USERS = 50;
const SESSIONS_PER_USER = 20;
const MESSAGES_PER_SESSION = 100;
const ROUNDS = 20;
const BATCH = 5_000;

/** The queries, by kind: common and rare words, stems, phrases, or, minus, no match. */
const QUERIES: Array<[kind: string, q: string]> = [
  ['common word', 'install'],
  ['common word', 'function'],
  ['stemmed word', 'running'],
  ['two words', 'error handling'],
  ['two words', 'server configuration'],
  ['rare word', 'deprecated'],
  ['phrase', '"type checking"'],
  ['or', 'stream or buffer'],
  ['minus', 'server -client'],
  ['no match', 'zyzzogeton'],
];

/** A small seeded generator (mulberry32), so every run writes the same text. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function markdownFiles(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir).sort()) {
    const file = path.join(dir, name);
    if (name === '.cache') continue;
    const stat = statSync(file, { throwIfNoEntry: false });
    if (stat?.isDirectory()) markdownFiles(file, out);
    else if (name.toLowerCase().endsWith('.md')) out.push(file);
  }
  return out;
}

/** Prose sentences of 5–40 words, without code or markup. */
function sentences(): string[] {
  const seen = new Set<string>();
  for (const file of markdownFiles(path.resolve(import.meta.dirname, '../node_modules'))) {
    for (const raw of readFileSync(file, 'utf8').split(/(?<=[.!?])\s+|\n\s*\n/)) {
      const sentence = raw.replace(/\s+/g, ' ').trim();
      const words = sentence.split(' ').length;
      if (words >= 5 && words <= 40 && /^[A-Z][A-Za-z0-9 ,;:'()-]+[.!?]$/.test(sentence)) seen.add(sentence);
    }
  }
  return [...seen];
}

async function fill(db: Database, prose: string[]): Promise<string[]> {
  const next = random(42);
  const pick = () => prose[Math.floor(next() * prose.length)]!;
  const paragraph = (min: number, max: number) => Array.from({ length: min + Math.floor(next() * (max - min + 1)) }, pick).join(' ');
  const userIds: string[] = [];
  for (let u = 0; u < USERS; u++) {
    const { rows } = await db.query<{ id: string }>('INSERT INTO users (email) VALUES ($1) RETURNING id', [`bench${u}@search.test`]);
    userIds.push(rows[0]!.id);
  }
  const sessionIds: string[] = [];
  for (const [u, userId] of userIds.entries()) {
    for (let s = 0; s < SESSIONS_PER_USER; s++) {
      const { rows } = await db.query<{ id: string }>(
        'INSERT INTO sessions (user_id, session_id, model, title) VALUES ($1, $2, $3, $4) RETURNING id',
        [userId, `chat_${(u * SESSIONS_PER_USER + s).toString(16).padStart(12, '0')}`, 'gpt-4o-mini', pick().split(' ').slice(0, 5).join(' ')],
      );
      sessionIds.push(rows[0]!.id);
    }
  }
  let batch: { session: string[]; seq: number[]; role: string[]; content: string[] } = { session: [], seq: [], role: [], content: [] };
  const flush = async () => {
    await db.query(
      'INSERT INTO messages (session_id, seq, role, content) SELECT * FROM unnest($1::uuid[], $2::bigint[], $3::text[], $4::text[])',
      [batch.session, batch.seq, batch.role, batch.content],
    );
    batch = { session: [], seq: [], role: [], content: [] };
  };
  for (const sessionId of sessionIds) {
    for (let m = 1; m <= MESSAGES_PER_SESSION; m++) {
      const user = m % 2 === 1;
      batch.session.push(sessionId);
      batch.seq.push(m);
      batch.role.push(user ? 'user' : 'assistant');
      batch.content.push(user ? paragraph(1, 3) : paragraph(3, 12));
      if (batch.session.length >= BATCH) await flush();
    }
  }
  if (batch.session.length > 0) await flush();
  await db.query('ANALYZE');
  return userIds;
}

async function measure(name: string, db: Database, prose: string[]): Promise<string[]> {
  const started = performance.now();
  const userIds = await fill(db, prose);
  const filled = (performance.now() - started) / 1000;
  const next = random(7);
  const byKind = new Map<string, number[]>();
  const all: number[] = [];
  let hits = 0;
  for (let round = -1; round < ROUNDS; round++) {
    for (const [kind, q] of QUERIES) {
      const userId = userIds[Math.floor(next() * userIds.length)]!;
      const start = performance.now();
      const page = await searchOwnText(db, { userId, language: 'english', query: q, limit: 21 });
      const took = performance.now() - start;
      if (round < 0) continue; // warm-up
      hits += page.length;
      all.push(took);
      byKind.set(kind, [...(byKind.get(kind) ?? []), took]);
    }
  }
  const fmt = (v: number[]) => `${median(v).toFixed(1)} ms | ${percentile(v, 99).toFixed(1)} ms`;
  const rows = [...byKind].map(([kind, took]) => `| ${name} | ${kind} | ${fmt(took)} |`);
  rows.push(`| ${name} | **all ${all.length} queries** | ${fmt(all)} |`);
  process.stderr.write(`${name}: filled in ${filled.toFixed(1)} s; ${(hits / all.length).toFixed(1)} results a page on average\n`);
  return rows;
}

async function main(): Promise<void> {
  const prose = sentences();
  process.stderr.write(`${prose.length} sentences of prose\n`);
  const rows: string[] = [];
  if (TEST_DATABASE_URL) {
    const created = await createEmptyPostgresDatabase();
    const db = createPostgresDatabase({ url: created.url, poolMax: 2, statementTimeoutMs: 120_000, logger: pino({ level: 'silent' }) });
    try {
      await migrate(db);
      rows.push(...(await measure('PostgreSQL', db, prose)));
    } finally {
      await db.close();
      await created.drop();
    }
  } else {
    process.stderr.write('TEST_DATABASE_URL is not set: PGlite only\n');
  }
  const pglite = await createPgliteDatabase(undefined);
  try {
    await migrate(pglite);
    rows.push(...(await measure('PGlite', pglite, prose)));
  } finally {
    await pglite.close();
  }
  const total = USERS * SESSIONS_PER_USER * MESSAGES_PER_SESSION;
  const table = ['| database | query | median | p99 |', '|---|---|---|---|', ...rows].join('\n');
  process.stdout.write(`${table}\n\n${total} messages (${USERS} users × ${SESSIONS_PER_USER} sessions × ${MESSAGES_PER_SESSION}); first page of 20; ${ROUNDS} rounds after one warm-up round; Node ${process.version}\n`);
}

await main();
