/**
 * Loading the active path of a 2 000-message conversation tree (target ≤ 30 ms).
 *
 * A real Pulp server (fresh PGlite, or PostgreSQL when TEST_DATABASE_URL is set). One session
 * gets 2 000 `messages` rows inserted directly: a spine of user/assistant pairs in which every
 * tenth question also has an edited sibling with its own answer, so the active path (the newest
 * branch everywhere) is 1 800 messages long; each row has its context item. Timed, medians of
 * `repetitions` runs after warm-up:
 *  - `GET /sessions/{id}/messages?before_seq=…` — the newest page of the active path over HTTP
 *    (what the web client loads when a chat opens);
 *  - `GET …/messages?leaf_id=` of the oldest sibling — another path, resolved down to its leaf;
 *  - the context read of the active path a turn makes before its model call (`pathContextRows`).
 *
 *   node --import tsx bench/tree.ts [repetitions=30]
 */
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { pathContextRows } from '../src/chat/context-store.js';
import { apiClient } from '../test/support/api.js';
import { startTestServer } from '../test/support/server.js';
import { median } from './stats.js';

const REPS = Number(process.argv[2] ?? 30);
const WARMUP = 5;
const MESSAGES = 2_000;
const TARGET_MS = 30;

interface Row {
  id: string;
  parent: string | null;
  seq: number;
  role: 'user' | 'assistant';
  content: string;
}

/** The tree: pairs along a spine; every tenth question has an older sibling (an edit) with its answer. */
function buildTree(): { rows: Row[]; leaf: string; oldSibling: string } {
  const rows: Row[] = [];
  let parent: string | null = null;
  let oldSibling = '';
  const add = (role: Row['role'], content: string, under: string | null): string => {
    const id = randomUUID();
    rows.push({ id, parent: under, seq: rows.length + 1, role, content });
    return id;
  };
  for (let i = 0; rows.length < MESSAGES; i++) {
    if (i % 10 === 5 && rows.length + 4 <= MESSAGES) {
      const edited = add('user', `Question ${i}, first wording`, parent);
      add('assistant', `Answer to the first wording of question ${i}.`, edited);
      oldSibling ||= edited;
    }
    const question = add('user', `Question ${i}: what does file ${i}.csv say about the budget?`, parent);
    parent = add('assistant', `File ${i}.csv lists day ${i} at ${i * 3} euros.`, question);
  }
  return { rows, leaf: parent ?? '', oldSibling };
}

function fmt(ms: number): string {
  return `${ms.toFixed(2)} ms`;
}

async function timed(fn: () => Promise<unknown>): Promise<number> {
  for (let i = 0; i < WARMUP; i++) await fn();
  const times: number[] = [];
  for (let i = 0; i < REPS; i++) {
    const start = performance.now();
    await fn();
    times.push(performance.now() - start);
  }
  return median(times);
}

const server = await startTestServer();
try {
  const api = apiClient(server.baseUrl);
  const db = server.database.db;
  const { body: session } = await api('POST', '/sessions', {});
  const { rows: found } = await db.query<{ id: string }>('SELECT id FROM sessions WHERE session_id = $1', [session.session_id]);
  const sessionUuid = found[0]!.id;
  const { rows, leaf, oldSibling } = buildTree();
  await db.query(
    `INSERT INTO messages (id, session_id, parent_id, seq, role, content)
     SELECT t.id, $1, t.parent, t.seq, t.role, t.content
     FROM unnest($2::uuid[], $3::uuid[], $4::bigint[], $5::text[], $6::text[]) AS t(id, parent, seq, role, content)`,
    [sessionUuid, rows.map((r) => r.id), rows.map((r) => r.parent), rows.map((r) => r.seq), rows.map((r) => r.role), rows.map((r) => r.content)],
  );
  const items = rows.map((r) =>
    r.role === 'user'
      ? { type: 'message', role: 'user', content: r.content }
      : { type: 'message', role: 'assistant', status: 'completed', content: [{ type: 'output_text', text: r.content }] },
  );
  await db.query(
    `INSERT INTO llm_context (session_id, seq, item, message_id)
     SELECT $1, t.seq, t.item, t.message_id FROM unnest($2::bigint[], $3::jsonb[], $4::uuid[]) AS t(seq, item, message_id)`,
    [sessionUuid, rows.map((r) => r.seq), items.map((i) => JSON.stringify(i)), rows.map((r) => r.id)],
  );
  await db.query('UPDATE sessions SET active_leaf_id = $2, message_count = $3 WHERE id = $1', [sessionUuid, leaf, rows.length]);
  await db.query('ANALYZE messages');
  await db.query('ANALYZE llm_context');

  const page = await api('GET', `/sessions/${session.session_id}/messages?before_seq=${MESSAGES + 1}&limit=50`);
  const pathLength = page.body.pagination.total_count as number;
  const context = await pathContextRows(db, sessionUuid);
  if (page.body.messages.length !== 50 || context.length !== pathLength) throw new Error('the tree was not read as built');

  const newestPage = await timed(() => api('GET', `/sessions/${session.session_id}/messages?before_seq=${MESSAGES + 1}&limit=50`));
  const otherPath = await timed(() => api('GET', `/sessions/${session.session_id}/messages?leaf_id=${oldSibling}&before_seq=${MESSAGES + 1}&limit=50`));
  const contextRead = await timed(() => pathContextRows(db, sessionUuid));

  console.log(`database: ${db.driver}; ${rows.length} messages, active path ${pathLength} messages; median of ${REPS} runs`);
  console.log(`GET messages (newest 50 of the active path): ${fmt(newestPage)}`);
  console.log(`GET messages?leaf_id= (another path):        ${fmt(otherPath)}`);
  console.log(`context of the active path (a turn's read):  ${fmt(contextRead)}`);
  const worst = Math.max(newestPage, otherPath, contextRead);
  console.log(`${worst <= TARGET_MS ? 'PASS' : 'FAIL'}: slowest ${fmt(worst)} (target ≤ ${TARGET_MS} ms)`);
} finally {
  await server.close();
}
