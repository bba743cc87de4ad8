/**
 * Conversations as trees, through a real server: edit and resend, regenerate, switching branches
 * over REST, with the fake model recording every request — a turn on one branch never sends the
 * model a word of another branch, after a forced summarization and after a restart too.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ServerEvent } from '../../src/chat/events.js';
import { SUMMARY_PREFIX } from '../../src/context/summary-plan.js';
import { apiClient } from '../support/api.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { startFakeOpenAI, type FakeOpenAI, type FakeResponse, type RecordedRequest } from '../support/fake-openai.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { field, TestClient } from './harness.js';

interface PathMessage {
  id: string;
  seq: number;
  parent_id: string | null;
  sibling_ids: string[];
  role: string;
  content: string | null;
  status: string | null;
}

let fake: FakeOpenAI;
let database: TestDatabase;
let server: TestServer;
let api: ReturnType<typeof apiClient>;
const clients: TestClient[] = [];
/** Held chat answers: the next chat request waits on this (a running turn). */
let hold: Promise<unknown> | undefined;

const isSummaryRequest = (req: RecordedRequest) => ((req.body.tools as unknown[] | undefined) ?? []).length === 0 && /summar/i.test(String(req.body.instructions ?? ''));
const isTitleRequest = (req: RecordedRequest) => ((req.body.tools as unknown[] | undefined) ?? []).length === 0 && /title/i.test(String(req.body.instructions ?? ''));
const chatRequests = () => fake.requests.filter((r) => !isSummaryRequest(r) && !isTitleRequest(r));
const inputText = (req: RecordedRequest | undefined) => JSON.stringify(req?.body.input ?? null);
/** The words of the last user message of a request (what the fake answers to). */
function lastUserText(req: RecordedRequest): string {
  const input = req.body.input as Array<{ role?: string; content?: unknown }>;
  const user = input.filter((i) => i.role === 'user').at(-1);
  return typeof user?.content === 'string' ? user.content : JSON.stringify(user?.content ?? '');
}
const MARKERS = ['SHARED', 'ALPHA', 'BRAVO', 'DELTA'];

/** A server on the file's database; closing it (a restart) leaves the database open for the next one. */
async function startServer(): Promise<void> {
  const kept: TestDatabase = { ...database, db: { ...database.db, close: () => Promise.resolve() } };
  server = await startTestServer(
    { LLM_PROVIDER: 'openai', OPENAI_BASE_URL: fake.baseUrl, OPENAI_API_KEY: 'test', OPENAI_API_MODE: 'responses', DEFAULT_MODEL: 'gpt-4o-mini', MODELS: 'gpt-4o-mini' },
    { database: kept },
  );
  api = apiClient(server.baseUrl);
}

beforeAll(async () => {
  fake = await startFakeOpenAI();
  fake.setHandler((req): FakeResponse => {
    // A summary says which branch words it was given, so a leak would show in the next request.
    if (isSummaryRequest(req)) return { steps: [{ type: 'text', deltas: [`Talked about ${MARKERS.filter((m) => inputText(req).includes(m)).join(' and ')}.`] }] };
    if (isTitleRequest(req)) return { steps: [{ type: 'text', deltas: ['Branches'] }] };
    const waiting = hold;
    hold = undefined;
    const answer: FakeResponse['steps'] = [{ type: 'text', deltas: ['Reply to ', lastUserText(req)] }];
    return { steps: waiting ? [{ type: 'text', deltas: ['Partial reply '] }, { type: 'wait', until: waiting }, ...answer] : answer };
  });
  database = await createTestDatabase();
  await startServer();
});
afterEach(() => {
  for (const c of clients.splice(0)) c.ws.terminate();
});
afterAll(async () => {
  await server?.close();
  await database?.db.close();
  await database?.drop().catch(() => undefined);
  await fake?.close();
});

async function newChat(): Promise<{ id: string; client: TestClient }> {
  const created = await api('POST', '/sessions', {});
  expect(created.status).toBe(201);
  const id = created.body.session_id as string;
  return { id, client: await connect(id) };
}

async function connect(id: string): Promise<TestClient> {
  const client = await TestClient.open(`${server.wsUrl}/ws/chat/${id}`);
  clients.push(client);
  return client;
}

/** Sends a frame that starts a turn and resolves with its events. */
async function turn(client: TestClient, frame: Record<string, unknown>): Promise<ServerEvent[]> {
  const from = client.events.length;
  client.send(frame);
  const events = await client.turn(from);
  expect(field(events.at(-1), 'finish_reason')).toBe('stop');
  return events;
}
const say = (client: TestClient, content: string, parentId?: string | null) =>
  turn(client, { type: 'message', messages: [{ content }], ...(parentId !== undefined ? { parent_id: parentId } : {}) });

async function path(id: string, query = ''): Promise<PathMessage[]> {
  const res = await api('GET', `/sessions/${id}/messages${query}`);
  expect(res.status).toBe(200);
  return res.body.messages as PathMessage[];
}
const contents = (messages: PathMessage[]) => messages.map((m) => m.content);
const byContent = (messages: PathMessage[], content: string) => {
  const found = messages.find((m) => m.content === content);
  if (!found) throw new Error(`no message "${content}" on the path`);
  return found;
};

describe('edit, regenerate and branch switching', () => {
  it('an edit starts a sibling branch whose request holds nothing of the edited branch', async () => {
    const { id, client } = await newChat();
    await say(client, 'SHARED start');
    await say(client, 'ALPHA question');
    const alpha = await path(id);
    expect(contents(alpha)).toEqual(['SHARED start', 'Reply to SHARED start', 'ALPHA question', 'Reply to ALPHA question']);
    // Every message follows the one before it.
    expect(alpha.map((m) => m.parent_id)).toEqual([null, alpha[0]!.id, alpha[1]!.id, alpha[2]!.id]);

    const edited = byContent(alpha, 'ALPHA question');
    await say(client, 'BRAVO question', edited.parent_id);
    const request = chatRequests().at(-1);
    expect(inputText(request)).toContain('SHARED start');
    expect(inputText(request)).not.toContain('ALPHA');

    const bravo = await path(id);
    expect(contents(bravo)).toEqual(['SHARED start', 'Reply to SHARED start', 'BRAVO question', 'Reply to BRAVO question']);
    const bravoQuestion = byContent(bravo, 'BRAVO question');
    expect(bravoQuestion.sibling_ids).toEqual([edited.id, bravoQuestion.id]);
    expect(bravo[0]!.sibling_ids).toEqual([bravo[0]!.id]);
  });

  it('a regenerate answers the same question again as a new sibling, without storing the question twice', async () => {
    const { id, client } = await newChat();
    await say(client, 'SHARED start');
    const first = await path(id);
    const answer = byContent(first, 'Reply to SHARED start');
    // Regenerate on the answer: its question is answered again.
    await turn(client, { type: 'regenerate', message_id: answer.id });
    expect(inputText(chatRequests().at(-1))).toContain('SHARED start');
    expect(inputText(chatRequests().at(-1))).not.toContain('Reply to SHARED start');
    const second = await path(id);
    expect(second).toHaveLength(2);
    expect(second[0]!.id).toBe(first[0]!.id);
    expect(second[1]!.id).not.toBe(answer.id);
    expect(second[1]!.sibling_ids).toEqual([answer.id, second[1]!.id]);
    // Regenerate on the question itself: a third answer.
    await turn(client, { type: 'regenerate', message_id: first[0]!.id });
    const third = await path(id);
    expect(third[1]!.sibling_ids).toHaveLength(3);
    const { rows } = await server.database.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM messages m JOIN sessions s ON s.id = m.session_id WHERE s.session_id = $1 AND m.role = 'user'`,
      [id],
    );
    expect(rows[0]!.n).toBe(1);
  });

  it('switching the active leaf shows and continues the other branch; leaf_id reads a branch without switching', async () => {
    const { id, client } = await newChat();
    await say(client, 'SHARED start');
    await say(client, 'ALPHA question');
    const alpha = await path(id);
    await say(client, 'BRAVO question', byContent(alpha, 'ALPHA question').parent_id);
    const bravo = await path(id);

    // A read of the other branch by one of its messages: down along the newest child to its leaf.
    const peek = await path(id, `?leaf_id=${byContent(alpha, 'ALPHA question').id}`);
    expect(contents(peek)).toEqual(contents(alpha));
    expect(contents(await path(id))).toEqual(contents(bravo));

    const switched = await api('PUT', `/sessions/${id}/active-leaf`, { message_id: byContent(alpha, 'ALPHA question').id });
    expect(switched.status).toBe(200);
    expect(switched.body.active_leaf_id).toBe(alpha.at(-1)!.id);
    expect(contents(switched.body.messages as PathMessage[])).toEqual(contents(alpha));
    expect(contents(await path(id))).toEqual(contents(alpha));

    await say(client, 'ALPHA follow-up');
    const request = inputText(chatRequests().at(-1));
    expect(request).toContain('ALPHA question');
    expect(request).not.toContain('BRAVO');
    expect(contents(await path(id)).slice(-2)).toEqual(['ALPHA follow-up', 'Reply to ALPHA follow-up']);
  });

  it('a branch never sees the summary of another, and an old branch point still works after it, also after a restart', async () => {
    const { id, client } = await newChat();
    await say(client, 'SHARED start');
    await say(client, 'ALPHA two');
    await say(client, 'ALPHA three');
    await say(client, 'ALPHA four');
    const alpha = await path(id);
    const sharedAnswer = byContent(alpha, 'Reply to SHARED start');

    // Branch B leaves after the shared exchange; then back to A, which is summarized.
    await say(client, 'BRAVO two', sharedAnswer.id);
    const bravoQuestion = byContent(await path(id), 'BRAVO two');
    expect((await api('PUT', `/sessions/${id}/active-leaf`, { message_id: byContent(alpha, 'ALPHA two').id })).status).toBe(200);
    const summarized = await api('POST', `/sessions/${id}/summarize`);
    expect(summarized.body).toMatchObject({ success: true });
    expect(summarized.body.summary).toContain('ALPHA');
    expect(summarized.body.summary).not.toContain('BRAVO');
    const card = (await path(id)).at(-1)!;
    expect(card).toMatchObject({ role: 'tool_call', parent_id: alpha.at(-1)!.id });

    // A continues from its summary.
    await say(client, 'ALPHA five');
    const alphaInput = chatRequests().at(-1)!.body.input as Array<{ role?: string; content?: unknown }>;
    expect(alphaInput[0]).toMatchObject({ role: 'system' });
    expect(String(alphaInput[0]!.content)).toContain(SUMMARY_PREFIX);

    // B: neither A's words nor A's summary.
    expect((await api('PUT', `/sessions/${id}/active-leaf`, { message_id: bravoQuestion.id })).status).toBe(200);
    await say(client, 'BRAVO three');
    const bravoInput = inputText(chatRequests().at(-1));
    expect(bravoInput).toContain('SHARED start');
    expect(bravoInput).toContain('BRAVO two');
    expect(bravoInput).not.toContain('ALPHA');
    expect(bravoInput).not.toContain(SUMMARY_PREFIX);

    // A new branch at the old branch point (before everything A summarized).
    await say(client, 'DELTA two', sharedAnswer.id);
    const deltaInput = inputText(chatRequests().at(-1));
    expect(deltaInput).toContain('SHARED start');
    for (const word of ['ALPHA', 'BRAVO', SUMMARY_PREFIX]) expect(deltaInput).not.toContain(word);
    expect(byContent(await path(id), 'DELTA two').sibling_ids).toHaveLength(3);

    // A restart keeps the tree, the active branch and what each branch sends.
    await server.close();
    await startServer();
    const again = await connect(id);
    expect(contents(await path(id)).slice(-2)).toEqual(['DELTA two', 'Reply to DELTA two']);
    await say(again, 'DELTA three');
    const afterRestart = inputText(chatRequests().at(-1));
    expect(afterRestart).toContain('DELTA two');
    for (const word of ['ALPHA', 'BRAVO', SUMMARY_PREFIX]) expect(afterRestart).not.toContain(word);
    clients.splice(clients.indexOf(client), 1);
  });
});

describe('token counts on branches', () => {
  it('the stored total and the gauge follow the branch: a long branch counts its words, a short one does not', async () => {
    const { id, client } = await newChat();
    await say(client, 'SHARED start');
    const long = `ALPHA ${'many words about the plan '.repeat(300)}`;
    const alphaTurn = await say(client, long);
    const total = async () => (await api('GET', `/sessions/${id}`)).body.session.total_tokens as number;
    const onAlpha = await total();
    expect(onAlpha).toBeGreaterThan(1_000);
    expect(field(alphaTurn.filter((e) => e.type === 'token_usage').at(-1), 'current')).toBe(onAlpha);

    const shared = await path(id);
    const bravoTurn = await say(client, 'BRAVO short', byContent(shared, long).parent_id);
    const onBravo = await total();
    expect(onBravo).toBeLessThan(onAlpha - 1_000);
    expect(field(bravoTurn.filter((e) => e.type === 'token_usage').at(-1), 'current')).toBe(onBravo);

    // Switching back counts the long branch again; and back once more, the short one.
    await api('PUT', `/sessions/${id}/active-leaf`, { message_id: byContent(shared, long).id });
    expect(await total()).toBeGreaterThan(onBravo + 1_000);
    await api('PUT', `/sessions/${id}/active-leaf`, { message_id: byContent(await path(id, `?leaf_id=${byContent(shared, long).id}`), long).sibling_ids[1]! });
    expect(Math.abs((await total()) - onBravo)).toBeLessThan(50);
  });
});

describe('one turn per session on branches', () => {
  it('a regenerate sent while an answer streams interrupts it, and each answer keeps its own branch', async () => {
    const { id, client } = await newChat();
    await say(client, 'SHARED start');
    const [question] = await path(id);
    let release = (): void => undefined;
    hold = new Promise<void>((resolve) => (release = resolve));
    const from = client.events.length;
    client.message('ALPHA slow');
    await client.waitFor((e) => e.type === 'assistant_delta', from);
    client.send({ type: 'regenerate', message_id: question!.id });
    const first = await client.turn(from);
    expect(field(first.at(-1), 'finish_reason')).toBe('interrupted');
    const second = await client.turn(client.events.indexOf(first.at(-1)!) + 1);
    expect(field(second.at(-1), 'finish_reason')).toBe('stop');
    release();

    // The regenerated answer is the active path; the interrupted turn is a sibling branch with its partial text.
    const shown = await path(id);
    expect(contents(shown)).toEqual(['SHARED start', 'Reply to SHARED start']);
    expect(shown[1]!.sibling_ids).toHaveLength(2);
    expect(inputText(chatRequests().at(-1))).not.toContain('ALPHA');
    const other = await path(id, `?leaf_id=${shown[1]!.sibling_ids[0]}`);
    expect(contents(other)).toEqual(['SHARED start', 'Reply to SHARED start', 'ALPHA slow', 'Partial reply ']);
    expect(other.at(-1)).toMatchObject({ status: 'interrupted' });
  });

  it('an edit of the first message (parent_id null) starts a second path from the root', async () => {
    const { id, client } = await newChat();
    await say(client, 'ALPHA first');
    await say(client, 'BRAVO first', null);
    const shown = await path(id);
    expect(contents(shown)).toEqual(['BRAVO first', 'Reply to BRAVO first']);
    expect(shown[0]!.parent_id).toBeNull();
    expect(shown[0]!.sibling_ids).toHaveLength(2);
    expect(inputText(chatRequests().at(-1))).not.toContain('ALPHA');
  });
});

describe('bad branch requests', () => {
  it('a parent_id or regenerate of no message of this chat gets a clear error and starts no turn', async () => {
    const other = await newChat();
    await say(other.client, 'SHARED elsewhere');
    const foreign = (await path(other.id))[0]!.id;
    const { id, client } = await newChat();
    const requests = fake.requests.length;
    for (const [frame, code] of [
      [{ type: 'message', messages: [{ content: 'hi' }], parent_id: foreign }, 'VAL_2010'],
      [{ type: 'message', messages: [{ content: 'hi' }], parent_id: 'not-a-message' }, 'VAL_2010'],
      [{ type: 'regenerate', message_id: foreign }, 'VAL_2011'],
    ] as const) {
      const from = client.events.length;
      client.send(frame);
      const error = await client.waitForType('error', from);
      expect(error).toMatchObject({ code, recoverable: true });
      expect(String(field(error, 'message'))).toMatch(/not a message of this chat/);
    }
    expect(client.events.some((e) => e.type === 'assistant_start')).toBe(false);
    expect(fake.requests.length).toBe(requests);
    expect(await path(id)).toEqual([]);
  });

  it('the active leaf cannot be set to a message of another chat (404) nor while a turn runs (409)', async () => {
    const other = await newChat();
    await say(other.client, 'SHARED elsewhere');
    const foreign = (await path(other.id))[0]!.id;
    const { id, client } = await newChat();
    await say(client, 'SHARED start');
    const own = (await path(id))[0]!.id;
    expect((await api('PUT', `/sessions/${id}/active-leaf`, { message_id: foreign })).body.error).toMatchObject({ code: 'RES_3010' });
    expect((await api('PUT', `/sessions/${id}/active-leaf`, { message_id: foreign })).status).toBe(404);
    expect((await api('GET', `/sessions/${id}/messages?leaf_id=${foreign}`)).status).toBe(404);
    expect((await api('PUT', `/sessions/chat_000000000000/active-leaf`, { message_id: own })).status).toBe(404);

    let release = (): void => undefined;
    hold = new Promise<void>((resolve) => (release = resolve));
    const from = client.events.length;
    client.message('SHARED slow');
    await client.waitFor((e) => e.type === 'assistant_delta', from);
    const busy = await api('PUT', `/sessions/${id}/active-leaf`, { message_id: own });
    expect(busy.status).toBe(409);
    expect(busy.body.error).toMatchObject({ code: 'RES_3011' });
    release();
    await client.turn(from);
  });
});
