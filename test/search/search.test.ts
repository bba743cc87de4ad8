/**
 * Full-text search through a real server: the caller's own messages and titles, stemmed,
 * ranked, highlighted and paged; another user's text is never found.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiClient } from '../support/api.js';
import { startTestServer, type TestServer } from '../support/server.js';

const SECRET = 'search-test-secret-at-least-32-chars!!';

interface Result {
  session_id: string;
  title: string | null;
  archived: boolean;
  message_id: string | null;
  role: 'user' | 'assistant' | null;
  created_at: string;
  snippet: string;
  highlights: Array<[number, number]>;
}
interface Answer {
  results: Result[];
  next_cursor: string | null;
}

let server: TestServer;
let alice: ReturnType<typeof apiClient>;
let bob: ReturnType<typeof apiClient>;

async function register(email: string) {
  const res = await apiClient(server.baseUrl)('POST', '/auth/register', { email, password: 'password123' });
  return apiClient(server.baseUrl, res.body.access_token as string);
}

/** A session of `userEmail`'s with rows written straight to the database (as turns write them). */
async function sessionWith(api: ReturnType<typeof apiClient>, title: string | undefined, rows: Array<['user' | 'assistant' | 'tool_call', string]>) {
  const created = await api('POST', '/sessions', title === undefined ? {} : { title });
  expect(created.status).toBe(201);
  const { rows: ids } = await server.database.db.query<{ id: string }>('SELECT id FROM sessions WHERE session_id = $1', [created.body.session_id]);
  const uuid = ids[0]!.id;
  const messageIds: string[] = [];
  for (const [i, [role, content]] of rows.entries()) {
    const { rows: inserted } = await server.database.db.query<{ id: string }>(
      role === 'tool_call'
        ? "INSERT INTO messages (session_id, seq, role, tool_name, tool_result, content) VALUES ($1, $2, 'tool_call', 'read_file', $3, $3) RETURNING id"
        : 'INSERT INTO messages (session_id, seq, role, content) VALUES ($1, $2, $3, $4) RETURNING id',
      role === 'tool_call' ? [uuid, i + 1, content] : [uuid, i + 1, role, content],
    );
    messageIds.push(inserted[0]!.id);
  }
  return { id: created.body.session_id as string, messageIds };
}

const search = (api: ReturnType<typeof apiClient>, query: Record<string, string | number>) =>
  api<Answer>('GET', `/search?${new URLSearchParams(Object.entries(query).map(([k, v]) => [k, String(v)]))}`);

/** The highlighted parts of a result, as a client would wrap them in <mark>. */
const marked = (r: Result) => r.highlights.map(([start, end]) => r.snippet.slice(start, end));

let running: { id: string; messageIds: string[] };
let recipes: { id: string; messageIds: string[] };

beforeAll(async () => {
  server = await startTestServer({ AUTH_MODE: 'jwt', JWT_SECRET: SECRET, AUTH_RATE_LIMIT_PER_MIN: '1000', ALLOW_REGISTRATION: 'true' });
  alice = await register('alice@search.test');
  bob = await register('bob@search.test');
  running = await sessionWith(alice, 'Marathon training', [
    ['user', 'How often should a beginner go running each week?'],
    ['assistant', 'A beginner runs three times a week, with a rest day between runs. Running daily invites injuries.'],
    ['tool_call', 'runs runs runs in a tool result'],
  ]);
  recipes = await sessionWith(alice, undefined, [
    ['user', 'Give me a <script>alert("x")</script> soup recipe with leeks'],
    ['assistant', 'Leek and potato soup: sweat the leeks, add potatoes and stock, simmer and blend.'],
  ]);
  await sessionWith(bob, 'Bob runs too', [['user', 'Secret plan: bob is running away with the leeks']]);
});
afterAll(() => server?.close());

describe('searching one’s own chats', () => {
  it('finds "runs" and "running" for "running" (stemming), best first, with the session and message', async () => {
    const { status, body } = await search(alice, { q: 'running' });
    expect(status).toBe(200);
    const messages = body.results.filter((r) => r.message_id !== null);
    expect(messages.map((r) => r.message_id).sort()).toEqual([running.messageIds[0], running.messageIds[1]].sort());
    // The answer says it three times ("runs", "runs", "Running"): it ranks above the question.
    expect(messages[0]).toMatchObject({ message_id: running.messageIds[1], role: 'assistant', session_id: running.id, title: 'Marathon training', archived: false });
    expect(marked(messages[0]!)).toEqual(['runs', 'runs', 'Running']);
    expect(Date.parse(messages[0]!.created_at)).not.toBeNaN();
    // Tool calls and results are not searched.
    expect(body.results.some((r) => r.message_id === running.messageIds[2])).toBe(false);
    expect(body.next_cursor).toBeNull();
  });

  it('finds session titles, ranked above a message with the same words', async () => {
    const { body } = await search(alice, { q: 'marathon' });
    expect(body.results).toHaveLength(1);
    expect(body.results[0]).toMatchObject({ session_id: running.id, message_id: null, role: null, title: 'Marathon training', snippet: 'Marathon training' });
    expect(marked(body.results[0]!)).toEqual(['Marathon']);

    await alice('PATCH', `/sessions/${recipes.id}`, { title: 'Leek soup' });
    const leek = await search(alice, { q: 'leek' });
    expect(leek.body.results[0]).toMatchObject({ session_id: recipes.id, message_id: null, snippet: 'Leek soup' });
    expect(leek.body.results.slice(1).every((r) => r.message_id !== null)).toBe(true);
  });

  it('never finds another user’s text, whatever the query', async () => {
    for (const q of ['running', 'leeks', 'secret plan', 'bob', 'runs OR leeks']) {
      const { body } = await search(alice, { q });
      expect(body.results.every((r) => r.session_id !== undefined && !r.snippet.includes('Secret')), q).toBe(true);
    }
    const own = await search(bob, { q: 'running' });
    expect(own.body.results.map((r) => r.title)).toEqual(['Bob runs too', 'Bob runs too']);
    const leeks = await search(bob, { q: 'leek soup potato' });
    expect(leeks.body.results).toEqual([]);
  });

  it('understands web search syntax: quoted phrases, or, -minus', async () => {
    const phrase = await search(alice, { q: '"rest day"' });
    expect(phrase.body.results.map((r) => r.message_id)).toEqual([running.messageIds[1]]);
    const either = await search(alice, { q: 'beginner or potatoes' });
    expect(either.body.results.map((r) => r.message_id).sort()).toEqual([running.messageIds[0], running.messageIds[1], recipes.messageIds[1]].sort());
    const without = await search(alice, { q: 'beginner -injuries' });
    expect(without.body.results.map((r) => r.message_id)).toEqual([running.messageIds[0]]);
  });

  it('returns snippets as plain text: markup in a message is text, not HTML, and offsets point at the words', async () => {
    const { body } = await search(alice, { q: 'recipe' });
    const hit = body.results.find((r) => r.message_id === recipes.messageIds[0]);
    expect(hit).toBeDefined();
    expect(marked(hit!)).toEqual(['recipe']);
    // ts_headline drops what looks like tags; the rest arrives as plain characters for a text node.
    expect(hit!.snippet).not.toMatch(/<script>/);
    expect(hit!.snippet).toContain('soup recipe with leeks');
  });

  it('saves a message far longer than a tsvector holds, and finds it by its first 100 000 characters', async () => {
    // 90 000 distinct words: a tsvector of all of them would be 1.6 MB, past PostgreSQL's 1 MB limit.
    const words = Array.from({ length: 90_000 }, (_, i) => `w${i.toString(16)}x${(i * 7919).toString(16)}`);
    const huge = `Gigantic appendix ${words.join(' ')} finalword`;
    expect(huge.length).toBeGreaterThan(1_000_000);
    const big = await sessionWith(alice, 'Big', [['assistant', huge]]);
    expect((await search(alice, { q: 'gigantic appendix' })).body.results.map((r) => r.message_id)).toEqual([big.messageIds[0]]);
    // Past the indexed part, words are not found (the row is whole in the chat).
    expect((await search(alice, { q: 'finalword' })).body.results).toEqual([]);
  });

  it('finds an answer once it is complete, not while it is still streaming', async () => {
    const chat = await sessionWith(alice, undefined, [['assistant', 'Half of a xylophone answer']]);
    const row = chat.messageIds[0]!;
    const setRow = (content: string, metadata: Record<string, unknown>) =>
      server.database.db.query('UPDATE messages SET content = $2, metadata = $3 WHERE id = $1', [row, content, metadata]);
    await setRow('Half of a xylophone answer', { streaming: true, partial: true });
    expect((await search(alice, { q: 'xylophone' })).body.results).toEqual([]);
    await setRow('Half of a xylophone answer, now whole', {});
    expect((await search(alice, { q: 'xylophone' })).body.results.map((r) => r.message_id)).toEqual([row]);
  });

  it('keeps searching archived sessions, and says they are archived', async () => {
    await alice('PATCH', `/sessions/${running.id}`, { archived: true });
    const { body } = await search(alice, { q: 'beginner' });
    expect(body.results.length).toBeGreaterThan(0);
    expect(body.results.every((r) => r.archived)).toBe(true);
    await alice('PATCH', `/sessions/${running.id}`, { archived: false });
  });

  it('finds nothing for stop words or punctuation, and refuses an empty, too long or forged query with VAL_ codes', async () => {
    for (const q of ['the', 'and or not', '"&|!:*()', '-']) {
      const { status, body } = await search(alice, { q });
      expect(status, q).toBe(200);
      expect(body).toEqual({ results: [], next_cursor: null });
    }
    for (const q of ['', '   ']) {
      const { status, body } = await search(alice, { q });
      expect(status).toBe(422);
      expect((body as unknown as { error: { code: string } }).error.code).toBe('VAL_2020');
    }
    const missing = await alice('GET', '/search');
    expect(missing.body.error).toMatchObject({ code: 'VAL_2020', message: 'Type something to search for.' });
    const long = await alice('GET', `/search?q=${'x'.repeat(201)}`);
    expect(long.body.error).toMatchObject({ code: 'VAL_2020', message: 'The search query is longer than 200 characters.' });
    for (const cursor of ['garbage', Buffer.from('[1,"not-a-uuid"]').toString('base64url'), Buffer.from('{"a":1}').toString('base64url')]) {
      const { status, body } = await search(alice, { q: 'running', cursor });
      expect(status, cursor).toBe(422);
      expect((body as unknown as { error: { code: string } }).error.code).toBe('VAL_2021');
    }
    for (const limit of [0, 51, 'x']) expect((await search(alice, { q: 'running', limit })).status).toBe(422);
    expect((await apiClient(server.baseUrl)('GET', '/search?q=running')).status).toBe(401);
  });
});

describe('paging search results', () => {
  it('walks every hit once, in rank order, with no duplicates or gaps', async () => {
    // 23 messages mentioning "kettle" a varying number of times (so ranks differ, and some tie).
    const rows = Array.from({ length: 23 }, (_, i) => ['user', `${'kettle '.repeat((i % 5) + 1)}boils water number ${i}`] as ['user', string]);
    const kettle = await sessionWith(alice, 'Kitchen', rows);
    const all = await search(alice, { q: 'kettle', limit: 50 });
    expect(all.body.results).toHaveLength(23);
    expect(all.body.next_cursor).toBeNull();

    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page: Awaited<ReturnType<typeof search>> = await search(alice, { q: 'kettle', limit: 5, ...(cursor ? { cursor } : {}) });
      expect(page.status).toBe(200);
      expect(page.body.results.length).toBeLessThanOrEqual(5);
      seen.push(...page.body.results.map((r) => r.message_id!));
      cursor = page.body.next_cursor;
      pages += 1;
    } while (cursor);
    expect(pages).toBe(5);
    expect(seen).toEqual(all.body.results.map((r) => r.message_id));
    expect(new Set(seen).size).toBe(23);
    expect(seen.sort()).toEqual([...kettle.messageIds].sort());
    // The most mentions rank first.
    expect(all.body.results[0]!.snippet.match(/kettle/g)?.length).toBe(5);
  });
});
