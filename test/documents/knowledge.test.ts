/**
 * Knowledge search through the real server: the fake provider's deterministic embeddings put a
 * differently worded question on the right page, full-text search alone works without an
 * embeddings model, libraries are searched only for their owner, and the agent's
 * `search_documents` call brings passages with file and page that the answer cites.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ServerEvent } from '../../src/chat/events.js';
import { field, TestClient } from '../chat/harness.js';
import { apiClient } from '../support/api.js';
import { startFakeOpenAI, type FakeOpenAI } from '../support/fake-openai.js';
import { outputFor, turnItems } from '../support/request-items.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { uploadFile } from './upload.js';
import { PAGE_FACTS, textPdf } from './sample-files.js';

const SECRET = 'knowledge-test-secret-at-least-32-characters';
const POLICY = '# Travel policy\n\n## Trains\n\nEmployees travel second class on trips under four hours.\n\n## Hotels\n\nA night in a hotel costs at most 120 EUR.\n';
/** Shares no word stem with page 1 ("The warehouse in Lyon stores 4200 pallets of oranges"). */
const REWORDED = 'How many palettes are kept at the storehouse?';

async function reportPdf(): Promise<Uint8Array> {
  return textPdf(PAGE_FACTS.map((fact, i) => [`Chapter ${i + 1}`, fact]));
}

describe('knowledge search with embeddings, across users', () => {
  let fake: FakeOpenAI;
  let server: TestServer;
  const users: Record<string, { token: string; session: string }> = {};
  const as = (who: string) => apiClient(server.baseUrl, users[who]!.token);

  beforeAll(async () => {
    fake = await startFakeOpenAI();
    server = await startTestServer({
      AUTH_MODE: 'jwt',
      JWT_SECRET: SECRET,
      ALLOW_REGISTRATION: 'true',
      AUTH_RATE_LIMIT_PER_MIN: '1000',
      LLM_PROVIDER: 'openai',
      OPENAI_BASE_URL: fake.baseUrl,
      OPENAI_API_KEY: 'test',
      DEFAULT_MODEL: 'gpt-4o-mini',
      EMBEDDING_MODEL: 'fake-embed',
    });
    for (const who of ['alice', 'bob']) {
      const reg = await apiClient(server.baseUrl)('POST', '/auth/register', { email: `${who}@example.com`, password: 'password123' });
      expect(reg.status).toBe(201);
      const token = reg.body.access_token as string;
      const session = await apiClient(server.baseUrl, token)('POST', '/sessions', { title: who });
      users[who] = { token, session: session.body.session_id as string };
    }
    expect((await uploadFile(server.baseUrl, `/sessions/${users.alice!.session}/files`, 'report.pdf', await reportPdf(), users.alice!.token)).status).toBe(201);
    await server.pulp.documents.indexer.whenIdle();
  }, 60_000);

  afterAll(async () => {
    await server?.close();
    await fake?.close();
  });

  const search = (who: string, q: string) => as(who)('GET', `/sessions/${users[who]!.session}/documents/search?q=${encodeURIComponent(q)}`);

  it('a question worded differently from the text finds the right page first, and the embedding calls are in the usage ledger', async () => {
    const res = await search('alice', REWORDED);
    expect(res.status).toBe(200);
    expect(res.body.results[0]).toMatchObject({ file: 'input/report.pdf', page: 1, text: expect.stringContaining('4200 pallets'), source: { kind: 'session', folder: 'input', path: 'report.pdf' } });
    expect(fake.embeddingInputs.flat()).toContain(REWORDED);
    const { rows } = await server.pulp.db.query<{ n: number }>("SELECT count(*)::int AS n FROM model_calls WHERE purpose = 'embedding'");
    expect(rows[0]!.n).toBeGreaterThanOrEqual(2);
  });

  it("a library is searched by the sessions it is attached to, and never for another user", async () => {
    const lib = await as('alice')('POST', '/libraries', { name: 'Handbook' });
    expect(lib.status).toBe(201);
    const up = await uploadFile(server.baseUrl, `/libraries/${lib.body.id}/documents`, 'policy.md', new TextEncoder().encode(POLICY), users.alice!.token);
    expect(up.status).toBe(201);
    await server.pulp.documents.indexer.whenIdle();
    // Uploaded again: still one document, its chunks replaced.
    expect((await uploadFile(server.baseUrl, `/libraries/${lib.body.id}/documents`, 'policy.md', new TextEncoder().encode(POLICY), users.alice!.token)).status).toBe(201);
    await server.pulp.documents.indexer.whenIdle();
    expect((await as('alice')('GET', `/libraries/${lib.body.id}`)).body.files).toEqual([
      expect.objectContaining({ filename: 'policy.md', conversion: { status: 'done' }, indexing: 'done', chunks: 2 }),
    ]);

    expect((await search('alice', 'second class train')).body.results.map((r: { file: string }) => r.file)).not.toContain('Handbook/policy.md');
    const attach = await as('alice')('PATCH', `/sessions/${users.alice!.session}`, { library_ids: [lib.body.id] });
    expect(attach.status).toBe(200);
    expect((await as('alice')('GET', `/sessions/${users.alice!.session}/libraries`)).body).toEqual({ library_ids: [lib.body.id] });
    const found = await search('alice', 'second class train');
    expect(found.body.results[0]).toMatchObject({ file: 'Handbook/policy.md', section: 'Trains', source: { kind: 'library', library_id: lib.body.id, library: 'Handbook' } });

    // Bob cannot see, attach or search Alice's library, nor her session's documents.
    expect((await as('bob')('GET', `/libraries/${lib.body.id}`)).status).toBe(404);
    expect((await as('bob')('GET', '/libraries')).body.libraries).toEqual([]);
    for (const stolen of [
      await as('bob')('PUT', `/sessions/${users.bob!.session}/libraries`, { library_ids: [lib.body.id] }),
      await as('bob')('PATCH', `/sessions/${users.bob!.session}`, { library_ids: [lib.body.id] }),
      await as('bob')('POST', '/sessions', { title: 'theft', library_ids: [lib.body.id] }),
    ]) {
      expect(stolen.status).toBe(404);
      expect(JSON.stringify(stolen.body)).toContain('RES_3040');
    }
    expect((await as('bob')('GET', '/sessions')).body.sessions.map((s: { title: string }) => s.title)).toEqual(['bob']);
    // Even a row written past the API does not make another user's library searchable.
    const bobUuid = (await server.pulp.db.query<{ id: string }>('SELECT id FROM sessions WHERE session_id = $1', [users.bob!.session])).rows[0]!.id;
    await server.pulp.db.query('INSERT INTO session_libraries (session_id, library_id) VALUES ($1, $2)', [bobUuid, lib.body.id]);
    for (const q of ['second class train', REWORDED]) expect((await search('bob', q)).body.results).toEqual([]);
    expect((await as('bob')('GET', `/sessions/${users.alice!.session}/documents/search?q=train`)).status).toBe(404);
  });
});

describe('knowledge search without an embeddings model, through a turn', () => {
  let fake: FakeOpenAI;
  let server: TestServer;
  let sessionId: string;

  beforeAll(async () => {
    fake = await startFakeOpenAI();
    server = await startTestServer({ LLM_PROVIDER: 'openai', OPENAI_BASE_URL: fake.baseUrl, OPENAI_API_KEY: 'test', OPENAI_API_MODE: 'responses', DEFAULT_MODEL: 'gpt-4o-mini' });
    sessionId = (await apiClient(server.baseUrl)('POST', '/sessions', { title: 'Facts' })).body.session_id as string;
    expect((await uploadFile(server.baseUrl, `/sessions/${sessionId}/files`, 'report.pdf', await reportPdf())).status).toBe(201);
    await server.pulp.documents.indexer.whenIdle();
  }, 60_000);

  afterAll(async () => {
    await server?.close();
    await fake?.close();
  });

  it('full-text search ranks the page with the words first and makes no embedding call', async () => {
    const res = await apiClient(server.baseUrl)('GET', `/sessions/${sessionId}/documents/search?q=${encodeURIComponent('When are refunds paid?')}`);
    expect(res.body.results[0]).toMatchObject({ file: 'input/report.pdf', page: 2, text: expect.stringContaining('fourteen days') });
    expect(fake.embeddingInputs).toEqual([]);
    // Without vectors the reworded question (no word in common) finds nothing: the vectors did it above.
    expect((await apiClient(server.baseUrl)('GET', `/sessions/${sessionId}/documents/search?q=${encodeURIComponent(REWORDED)}`)).body.results).toEqual([]);
    expect((await apiClient(server.baseUrl)('GET', `/sessions/${sessionId}/documents/search?q=%20`)).status).toBe(422);
  });

  it('the agent searches the documents and its answer cites file and page', async () => {
    fake.setHandler((request) => {
      const { after } = turnItems(request);
      const output = outputFor(request, 'call_search');
      if (!output) return { steps: [{ type: 'tool_call', name: 'search_documents', arguments: { query: 'night shift hours' }, callId: 'call_search' }] };
      const hit = (JSON.parse(output) as { results: Array<{ file: string; page: number; text: string }> }).results[0]!;
      expect(after.length).toBeGreaterThan(0);
      return { steps: [{ type: 'text', deltas: [`The night shift runs 22:00–06:00 [${hit.file} p. ${hit.page}].`] }] };
    });
    const client = await TestClient.open(`${server.wsUrl}/ws/chat/${sessionId}`);
    try {
      client.message('When does the night shift work?');
      const events: ServerEvent[] = await client.turn(0);
      const call = events.find((e) => e.type === 'function_completed');
      expect(call).toMatchObject({ tool_name: 'search_documents', tool_success: true });
      expect(JSON.parse(field<string>(call, 'tool_result')).results[0]).toMatchObject({ file: 'input/report.pdf', page: 3 });
      const answer = events.filter((e) => e.type === 'assistant_delta').map((e) => field<string>(e, 'content')).join('');
      expect(answer).toContain('[input/report.pdf p. 3]');
      const tool = (fake.requests[0]!.body.tools as Array<{ name?: string; description?: string }>).find((t) => t.name === 'search_documents');
      expect(tool?.description).toContain('[file p. N]');
    } finally {
      client.ws.terminate();
    }
  });
});
