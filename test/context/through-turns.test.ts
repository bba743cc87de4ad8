/**
 * Context management through real chat turns: a real Pulp server
 * whose model is the scripted fake OpenAI server, with a 2 000-token window for gpt-4o-mini
 * (threshold 1 600), and a `ws` client. The fake answers the summary and title requests (the
 * session's model without tools) through its handler; chat requests follow a per-test script.
 */
import { pathContextRows } from '../../src/chat/context-store.js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ServerEvent } from '../../src/chat/events.js';
import { SUMMARY_TOOL_NAME } from '../../src/context/events.js';
import { SUMMARY_PREFIX } from '../../src/context/summary-plan.js';
import { countItems } from '../../src/context/tokens.js';
import { apiClient } from '../support/api.js';
import { startFakeOpenAI, type FakeOpenAI, type FakeResponse, type RecordedRequest } from '../support/fake-openai.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { field, TestClient } from '../chat/harness.js';

const MODEL = 'gpt-4o-mini';
const WINDOW = 2_000;
const THRESHOLD = 1_600;
const TITLE = 'Lisbon Trip Planning';

type Kind = 'summary' | 'title' | 'chat';
type Json = Record<string, unknown>;

let fake: FakeOpenAI;
let server: TestServer;
let api: ReturnType<typeof apiClient>;
/** Chat answers of the current test, in order; an empty script answers with plain text. */
let chatScript: FakeResponse[] = [];
const GOOD_SUMMARY = 'The user is planning a trip to Lisbon and shared long notes; the assistant listed the workspace.';
/** How the fake answers summary requests (default: a short summary). */
let summaryAnswer: (attempt: number) => FakeResponse = () => text(GOOD_SUMMARY);
let summaryAttempts = 0;
const clients: TestClient[] = [];

/** Summary requests carry the summarizer's instructions and no tools; title requests ask for a title. */
function kindOf(req: RecordedRequest): Kind {
  const instructions = String(req.body.instructions ?? '');
  const tools = (req.body.tools as unknown[] | undefined) ?? [];
  if (tools.length === 0 && /summar/i.test(instructions)) return 'summary';
  if (tools.length === 0 && /title/i.test(instructions)) return 'title';
  return 'chat';
}

const text = (answer: string, usage?: FakeResponse['usage']): FakeResponse => ({ steps: [{ type: 'text', deltas: [answer] }], ...(usage ? { usage } : {}) });
const toolCall = (name: string, args: Json): FakeResponse => ({ steps: [{ type: 'tool_call', name, arguments: args }] });

beforeAll(async () => {
  fake = await startFakeOpenAI();
  fake.setHandler((req) => {
    const kind = kindOf(req);
    if (kind === 'summary') return summaryAnswer(++summaryAttempts);
    if (kind === 'title') return text(TITLE);
    return chatScript.shift();
  });
  server = await startTestServer({
    LLM_PROVIDER: 'openai',
    OPENAI_BASE_URL: fake.baseUrl,
    OPENAI_API_KEY: 'test',
    OPENAI_API_MODE: 'responses',
    DEFAULT_MODEL: 'gpt-4o-mini',
    MODELS: 'gpt-4o-mini',
    MODEL_CONTEXT_WINDOWS: `gpt-4o-mini=${WINDOW}`,
    SUMMARY_RETRY_BACKOFF_MS: '20',
  });
  api = apiClient(server.baseUrl);
});
afterEach(() => {
  for (const c of clients.splice(0)) c.ws.terminate();
  chatScript = [];
  summaryAnswer = () => text(GOOD_SUMMARY);
  summaryAttempts = 0;
});
afterAll(async () => {
  await server?.close();
  await fake?.close();
});

async function newSession(title?: string): Promise<{ id: string; uuid: string; client: TestClient }> {
  const created = await api('POST', '/sessions', title ? { title } : {});
  expect(created.status).toBe(201);
  const id = created.body.session_id as string;
  const client = await TestClient.open(`${server.wsUrl}/ws/chat/${id}`);
  clients.push(client);
  const { rows } = await server.database.db.query<{ id: string }>('SELECT id FROM sessions WHERE session_id = $1', [id]);
  return { id, uuid: rows[0]!.id, client };
}

/** Sends one message and resolves with the events of its turn (assistant_start … assistant_end). */
async function say(client: TestClient, content: string): Promise<ServerEvent[]> {
  const from = client.events.length;
  client.message(content);
  return client.turn(from);
}

/** How many summaries `/metrics` counts with this outcome. */
async function summaryCount(outcome: 'success' | 'skipped' | 'failed'): Promise<number> {
  const metrics = await (await fetch(`${server.baseUrl}/metrics`)).text();
  const line = metrics.split('\n').find((l) => l.startsWith(`pulp_summarizations_total{outcome="${outcome}"}`));
  return line ? Number(line.split(' ').at(-1)) : 0;
}

async function sessionOf(id: string): Promise<Json> {
  const res = await api('GET', `/sessions/${id}`);
  expect(res.status).toBe(200);
  return res.body.session as Json;
}

const chatRequests = () => fake.requests.filter((r) => kindOf(r) === 'chat');
/** Long, word-like text: about one token a word. */
const notes = (words: number) => Array.from({ length: words }, (_, i) => `item${i % 97} lisbon`).join(' ');

/** A user message whose own count (text + 10) is `tokens` or a few more, by the server's tokenizer. */
function pasteOf(tokens: number): string {
  let words = Math.floor(tokens / 4);
  let paste = notes(words);
  while (countItems(MODEL, [{ type: 'message', role: 'user', content: paste }]) < tokens) paste = notes((words += 1));
  return paste;
}

const isSummaryCard = (e: ServerEvent) => field(e, 'tool_name') === SUMMARY_TOOL_NAME;
const types = (events: ServerEvent[]) => events.map((e) => e.type);

/** The summarization card of a turn: detected, executing, completed, in that order. */
function summaryCard(events: ServerEvent[]) {
  const card = events.filter(isSummaryCard);
  expect(types(card)).toEqual(['function_detected', 'function_executing', 'function_completed']);
  const id = field<string>(card[0], 'tool_call_id');
  expect(id).toMatch(/^sum_[0-9a-f]{8}$/);
  for (const e of card) expect(field(e, 'tool_call_id')).toBe(id);
  return { id, executing: card[1]!, completed: card[2]! };
}

/** Every function_call has its function_call_output and every output its call (Responses API input). */
function expectPairedToolItems(input: Json[]): void {
  const calls = input.filter((i) => i.type === 'function_call').map((i) => i.call_id);
  const outputs = input.filter((i) => i.type === 'function_call_output').map((i) => i.call_id);
  expect(calls.length).toBeGreaterThan(0);
  expect([...outputs].sort()).toEqual([...calls].sort());
}

/** The context of the session's active path, as the next turn reads it. */
async function contextItems(uuid: string): Promise<Json[]> {
  return (await pathContextRows(server.database.db, uuid)).map((r) => r.item as unknown as Json);
}

/**
 * Three turns with tool calls: a long pasted note, a generated document, a directory listing.
 * The first two stay under the threshold (1 600); the third one ends over it. Returns the
 * third turn's events and the last model request of that turn.
 */
async function conversationCrossingTheThreshold(id: string, client: TestClient) {
  chatScript.push(toolCall('list_directory', { path: '.' }), text('I see an empty workspace and read your notes.'));
  await say(client, `Here are my trip notes: ${notes(300)}`);
  await client.waitForType('session_updated'); // the background title is done: no stray request later
  chatScript.push(toolCall('generate_document', { filename: 'plan.md', content: 'Day 1: Alfama. Day 2: Belem.' }), text('I wrote output/plan.md.'));
  await say(client, 'Write a plan file.');
  const before = await sessionOf(id);
  expect(before.total_tokens).toBeLessThanOrEqual(THRESHOLD);
  chatScript.push(toolCall('list_directory', { path: 'output' }), text('The plan is in output/.'));
  const third = await say(client, 'Where is it?');
  return { third, lastRequest: chatRequests().at(-1)!, before };
}

describe('automatic summarization after a turn', () => {
  it('a conversation with tool calls that crosses the threshold is summarized, and the next request carries the summary and the last 2 exchanges', async () => {
    const { id, client } = await newSession();
    const { third, lastRequest } = await conversationCrossingTheThreshold(id, client);

    const { id: cardId, executing, completed } = summaryCard(third);
    expect(field<Json>(executing, 'tool_arguments').tokens_before).toBeGreaterThan(THRESHOLD);
    expect(completed).toMatchObject({ tool_success: true, tool_result: GOOD_SUMMARY });
    // The card comes after the turn's own answer and is followed by token_usage, then the end.
    expect(types(third).slice(-5)).toEqual(['function_detected', 'function_executing', 'function_completed', 'token_usage', 'assistant_end']);
    expect(field(third.at(-1), 'finish_reason')).toBe('stop');
    const usage = third.at(-2)!;
    expect(usage).toMatchObject({ limit: WINDOW, threshold: THRESHOLD });

    const session = await sessionOf(id);
    expect(session.trigger_tokens).toBe(THRESHOLD);
    expect(session.total_tokens).toBeLessThan(THRESHOLD);
    expect(session.total_tokens).toBe(field(usage, 'current'));
    // The summary request went to the model on its own: summarizer instructions, no tools.
    const summaryRequest = fake.requests.find((r) => kindOf(r) === 'summary')!;
    expect(JSON.stringify(summaryRequest.body.input)).toContain('Here are my trip notes');

    chatScript.push(text('Nothing else for now.'));
    const fourth = await say(client, 'Thanks, anything else?');
    expect(fourth.some(isSummaryCard)).toBe(false);
    const input = chatRequests().at(-1)!.body.input as Json[];
    expect(input[0]).toMatchObject({ role: 'system', content: `${SUMMARY_PREFIX}:\n\n${GOOD_SUMMARY}` });
    // The last 2 exchanges, verbatim: the 7 items the third turn's last request ended with, the
    // third answer, then the new message. The first exchange (the long notes) is gone.
    const previous = lastRequest.body.input as Json[];
    expect(input.slice(1, 8)).toEqual(previous.slice(4));
    expect(input[8]).toMatchObject({ role: 'assistant', content: [{ text: 'The plan is in output/.' }] });
    expect(input[9]).toMatchObject({ role: 'user', content: 'Thanks, anything else?' });
    expect(input).toHaveLength(10);
    expect(JSON.stringify(input)).not.toContain('item0 lisbon');
    expectPairedToolItems(input);

    // A reload shows the card.
    const { body } = await api('GET', `/sessions/${id}/messages`);
    const row = (body.messages as Json[]).find((m) => m.tool_call_id === cardId);
    expect(row).toMatchObject({ role: 'tool_call', tool_name: SUMMARY_TOOL_NAME, tool_result: GOOD_SUMMARY, tool_success: true });
  });

  it('exactly at the threshold a turn does not summarize; one token over it does', async () => {
    const endAt = async (total: number) => {
      const { id, client } = await newSession('Boundary');
      chatScript.push(toolCall('list_directory', { path: '.' }), text('Empty.'));
      await say(client, 'What is here?');
      chatScript.push(text('Noted.'));
      await say(client, 'Remember the number 42.');
      // The provider's count of the last call is the new total (a text answer adds nothing after it).
      chatScript.push(text('Sure.', { input_tokens: total - 10, output_tokens: 10 }));
      return { id, events: await say(client, 'And 43.') };
    };
    const at = await endAt(THRESHOLD);
    expect(at.events.some(isSummaryCard)).toBe(false);
    expect(await sessionOf(at.id)).toMatchObject({ total_tokens: THRESHOLD, trigger_tokens: THRESHOLD });

    const over = await endAt(THRESHOLD + 1);
    summaryCard(over.events);
    expect(field(over.events.at(-1), 'finish_reason')).toBe('stop');
  });
});

describe('a long paste', () => {
  it('one larger than the whole window ends with CTX_4101 before any model request; one larger than the remaining budget is summarized first', async () => {
    const { id, uuid, client } = await newSession();
    chatScript.push(toolCall('list_directory', { path: '.' }), text('The workspace is empty.'));
    await say(client, 'What files do I have?');
    await client.waitForType('session_updated');
    chatScript.push(text('Lisbon in May sounds lovely.'));
    await say(client, 'I am going to Lisbon in May.');
    const contextBefore = await contextItems(uuid);
    const totalBefore = (await sessionOf(id)).total_tokens;

    const requests = fake.requests.length;
    const huge = await say(client, pasteOf(WINDOW + 300));
    expect(types(huge)).toEqual(['assistant_start', 'token_usage', 'error', 'assistant_end']);
    expect(huge.find((e) => e.type === 'error')).toMatchObject({ code: 'CTX_4101' });
    expect(field(huge.at(-1), 'finish_reason')).toBe('error');
    expect(fake.requests.length).toBe(requests);
    expect(await contextItems(uuid)).toEqual(contextBefore);
    expect((await sessionOf(id)).total_tokens).toBe(totalBefore);

    chatScript.push(text('Yes, still here.'));
    const next = await say(client, 'Still there?');
    expect(field(next.at(-1), 'finish_reason')).toBe('stop');
    expect(next.filter((e) => e.type === 'assistant_delta').map((e) => field(e, 'content')).join('')).toBe('Yes, still here.');
    expect(JSON.stringify(chatRequests().at(-1)!.body.input)).not.toContain('item0 lisbon');

    // Now a paste that fits the window but not what is left of the budget.
    const current = (await sessionOf(id)).total_tokens as number;
    const paste = pasteOf(THRESHOLD - current + 150);
    chatScript.push(text('Got your itinerary.'));
    const pasted = await say(client, paste);
    const { completed } = summaryCard(pasted);
    expect(completed).toMatchObject({ tool_success: true });
    const cardAt = pasted.findIndex(isSummaryCard);
    expect(cardAt).toBeLessThan(pasted.findIndex((e) => e.type === 'assistant_delta'));
    expect(field(pasted.at(-1), 'finish_reason')).toBe('stop');
    const input = chatRequests().at(-1)!.body.input as Json[];
    expect(input[0]).toMatchObject({ role: 'system', content: `${SUMMARY_PREFIX}:\n\n${GOOD_SUMMARY}` });
    expect(input.at(-1)).toMatchObject({ role: 'user', content: paste });
    expect(JSON.stringify(input)).not.toContain('What files do I have?');
  });
  it('one that fits the window alone but not even after a summary ends with CTX_4101, and the summarized session goes on', async () => {
    const { id, uuid, client } = await newSession('Too long even summarized');
    chatScript.push(toolCall('list_directory', { path: '.' }), text('The workspace is empty.'), text('Noted.'));
    await say(client, 'What files do I have?');
    await say(client, 'I am going to Lisbon in May.');
    const requests = chatRequests().length;

    const paste = pasteOf(WINDOW - 10);
    const pasted = await say(client, paste);
    expect(summaryCard(pasted).completed).toMatchObject({ tool_success: true });
    expect(pasted.at(-2)).toMatchObject({ type: 'error', code: 'CTX_4101' });
    expect(field(pasted.at(-1), 'finish_reason')).toBe('error');
    expect(chatRequests().length).toBe(requests);
    // What is left: the summary and the last exchange; the stored total counts exactly that.
    const items = await contextItems(uuid);
    expect(items[0]).toMatchObject({ role: 'system' });
    expect(JSON.stringify(items)).not.toContain('item0 lisbon');
    const total = (await sessionOf(id)).total_tokens as number;
    expect(total).toBeLessThan(THRESHOLD);
    expect(total).toBe(field(pasted.filter((e) => e.type === 'token_usage').at(-1), 'current'));

    chatScript.push(text('Yes, still here.'));
    const next = await say(client, 'Still there?');
    expect(next.some(isSummaryCard)).toBe(false);
    expect(field(next.at(-1), 'finish_reason')).toBe('stop');
    expect(chatRequests().at(-1)!.body.input[0]).toMatchObject({ role: 'system', content: `${SUMMARY_PREFIX}:\n\n${GOOD_SUMMARY}` });
  });
});

describe('a failing summarizer', () => {
  it('is retried, then leaves the context untouched, says so with a recoverable error, and the conversation goes on', async () => {
    summaryAnswer = (attempt) => (attempt === 2 ? text('') : { steps: [], error: { status: 500, message: 'summarizer down' } });
    const [failedBefore, succeededBefore] = [await summaryCount('failed'), await summaryCount('success')];
    const { id, uuid, client } = await newSession();
    const { third } = await conversationCrossingTheThreshold(id, client);

    expect(summaryAttempts).toBe(3);
    const { completed } = summaryCard(third);
    expect(completed).toMatchObject({ tool_success: false });
    expect(types(third).slice(-3)).toEqual(['function_completed', 'error', 'assistant_end']);
    expect(third.at(-2)).toMatchObject({ code: 'EXT_7010', recoverable: true });
    expect(field(third.at(-1), 'finish_reason')).toBe('stop');
    expect(JSON.stringify(third)).not.toContain('summarizer down');

    const items = await contextItems(uuid);
    expect(items).toHaveLength(12); // 3 exchanges of user, call, output, answer: nothing replaced
    expect(items.some((i) => i.role === 'system')).toBe(false);
    expect((await sessionOf(id)).total_tokens).toBeGreaterThan(THRESHOLD);
    const { body } = await api('GET', `/sessions/${id}/messages`);
    expect((body.messages as Json[]).some((m) => m.tool_name === SUMMARY_TOOL_NAME)).toBe(false);

    // The model is back: the next turn summarizes before its call and answers.
    summaryAnswer = () => text(GOOD_SUMMARY);
    chatScript.push(text('Here is the rest of the plan.'));
    const next = await say(client, 'Go on.');
    expect(summaryCard(next).completed).toMatchObject({ tool_success: true });
    expect(field(next.at(-1), 'finish_reason')).toBe('stop');
    expect(await summaryCount('failed')).toBe(failedBefore + 1);
    expect(await summaryCount('success')).toBe(succeededBefore + 1);
    expect((await sessionOf(id)).total_tokens).toBeLessThan(THRESHOLD);
  });
});

describe('titles', () => {
  it('an untitled session gets a generated title as session_updated, and GET shows it without marking it named', async () => {
    const { id, client } = await newSession();
    chatScript.push(text('Lisbon is a great choice.'));
    await say(client, 'Help me plan a trip to Lisbon');
    const updated = await client.waitForType('session_updated');
    expect(updated).toMatchObject({ type: 'session_updated', session_id: id, title: TITLE });
    expect(updated).not.toHaveProperty('turn_id');
    expect(await sessionOf(id)).toMatchObject({ title: TITLE, is_named: false });
    // The title is asked of the first exchange: the user's words and the answer.
    const asked = JSON.stringify(fake.requests.filter((r) => kindOf(r) === 'title').at(-1)?.body.input);
    expect(asked).toContain('User: Help me plan a trip to Lisbon');
    expect(asked).toContain('Assistant: Lisbon is a great choice.');
  });

  it('a rename before the first turn is never overwritten by a generated title', async () => {
    const { id, client } = await newSession();
    expect((await api('PATCH', `/sessions/${id}`, { title: 'My own name' })).body).toMatchObject({ title: 'My own name', is_named: true });
    chatScript.push(text('Sure.'), text('Done.'));
    await say(client, 'Rename test: first message');
    await say(client, 'Rename test: second message');
    const titleRequests = fake.requests.filter((r) => kindOf(r) === 'title' && JSON.stringify(r.body.input).includes('Rename test'));
    expect(titleRequests).toEqual([]);
    expect(client.events.some((e) => e.type === 'session_updated')).toBe(false);
    expect(await sessionOf(id)).toMatchObject({ title: 'My own name', is_named: true });
  });
});

describe('POST /sessions/{id}/summarize', () => {
  it('forces a summary under the threshold, answers with its figures and saves the card row', async () => {
    const { id, client } = await newSession('Forced');
    chatScript.push(toolCall('list_directory', { path: '.' }), text('Empty.'), text('Noted.'), text('Fine.'));
    await say(client, 'What is here?');
    await say(client, 'Remember the number 42.');
    await say(client, 'And 43.');
    const before = (await sessionOf(id)).total_tokens as number;
    expect(before).toBeLessThan(THRESHOLD);

    const res = await api('POST', `/sessions/${id}/summarize`);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      success: true,
      summary: GOOD_SUMMARY,
      tokens_before: expect.any(Number),
      tokens_after: expect.any(Number),
      tool_call_id: expect.stringMatching(/^sum_[0-9a-f]{8}$/),
    });
    expect(res.body.tokens_after).toBeLessThan(res.body.tokens_before);
    expect((await sessionOf(id)).total_tokens).toBe(res.body.tokens_after);
    const { body } = await api('GET', `/sessions/${id}/messages`);
    expect((body.messages as Json[]).at(-1)).toMatchObject({
      role: 'tool_call',
      tool_call_id: res.body.tool_call_id,
      tool_name: SUMMARY_TOOL_NAME,
      tool_arguments: { tokens_before: res.body.tokens_before },
      tool_result: GOOD_SUMMARY,
      tool_success: true,
    });
  });

  it('answers success false when there is nothing to summarize', async () => {
    const { id, client } = await newSession('Short');
    const requests = fake.requests.length;
    const skippedBefore = await summaryCount('skipped');
    const empty = await api('POST', `/sessions/${id}/summarize`);
    expect(await summaryCount('skipped')).toBe(skippedBefore + 1);
    expect(empty.status).toBe(200);
    expect(empty.body).toEqual({ success: false, message: expect.any(String) });
    chatScript.push(text('Hello.'));
    await say(client, 'Hi');
    expect((await api('POST', `/sessions/${id}/summarize`)).body).toMatchObject({ success: false });
    expect(fake.requests.slice(requests).some((r) => kindOf(r) === 'summary')).toBe(false);
  });

  it('answers 409 RES_3004 while a turn runs', async () => {
    const { id, client } = await newSession('Busy');
    let release = () => undefined as void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    chatScript.push({ steps: [{ type: 'text', deltas: ['Working '] }, { type: 'wait', until: gate }, { type: 'text', deltas: ['done.'] }] });
    const from = client.events.length;
    client.message('Take your time');
    await client.waitForType('assistant_delta', from);
    const busy = await api('POST', `/sessions/${id}/summarize`);
    expect(busy.status).toBe(409);
    expect(busy.body.error).toMatchObject({ code: 'RES_3004', message: 'A turn is running in this session; try again when it ends.' });
    release();
    const events = await client.turn(from);
    expect(field(events.at(-1), 'finish_reason')).toBe('stop');
  });

  it('deleting a session while its turn runs stops the turn first; the client is told it was interrupted', async () => {
    const { id, client } = await newSession('Doomed');
    const gate = new Promise<void>(() => undefined); // the model never finishes on its own
    chatScript.push({ steps: [{ type: 'text', deltas: ['Half an answer '] }, { type: 'wait', until: gate }] });
    const from = client.events.length;
    client.message('Write a long essay');
    await client.waitForType('assistant_delta', from);
    const deleted = await api('DELETE', `/sessions/${id}`);
    expect(deleted.status).toBe(200);
    const events = await client.turn(from);
    expect(field(events.at(-1), 'finish_reason')).toBe('interrupted');
    expect((await api('GET', `/sessions/${id}`)).status).toBe(404);
  });
});
