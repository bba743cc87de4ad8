/**
 * Automatic summarization on a branched conversation, through a real server with a 2 000-token
 * window (threshold 1 600) and the fake model: the summary the threshold makes on one branch is
 * never sent on another, and a branch that leaves before the summarized part still has its own
 * words.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ServerEvent } from '../../src/chat/events.js';
import { SUMMARY_TOOL_NAME } from '../../src/context/events.js';
import { SUMMARY_PREFIX } from '../../src/context/summary-plan.js';
import { countItems } from '../../src/context/tokens.js';
import { apiClient } from '../support/api.js';
import { startFakeOpenAI, type FakeOpenAI, type RecordedRequest } from '../support/fake-openai.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { field, TestClient } from '../chat/harness.js';

const MODEL = 'gpt-4o-mini';
let fake: FakeOpenAI;
let server: TestServer;
let client: TestClient | undefined;

const noTools = (req: RecordedRequest) => ((req.body.tools as unknown[] | undefined) ?? []).length === 0;
const isSummary = (req: RecordedRequest) => noTools(req) && /summar/i.test(String(req.body.instructions ?? ''));
const isTitle = (req: RecordedRequest) => noTools(req) && /title/i.test(String(req.body.instructions ?? ''));
const chatRequests = () => fake.requests.filter((r) => !isSummary(r) && !isTitle(r));

/** Notes of about `tokens` tokens, every word carrying `marker`. */
function notes(marker: string, tokens: number): string {
  let words = Math.floor(tokens / 3);
  const of = (n: number) => Array.from({ length: n }, (_, i) => `${marker}${i % 89}`).join(' ');
  while (countItems(MODEL, [{ type: 'message', role: 'user', content: of(words) }]) < tokens) words += 5;
  return of(words);
}

beforeAll(async () => {
  fake = await startFakeOpenAI();
  fake.setHandler((req) => {
    if (isSummary(req)) return { steps: [{ type: 'text', deltas: [`Summary of notes: ${String(JSON.stringify(req.body.input)).includes('alpha') ? 'alpha notes' : 'other'}.`] }] };
    if (isTitle(req)) return { steps: [{ type: 'text', deltas: ['Notes'] }] };
    return { steps: [{ type: 'text', deltas: ['Noted.'] }] };
  });
  server = await startTestServer({
    LLM_PROVIDER: 'openai',
    OPENAI_BASE_URL: fake.baseUrl,
    OPENAI_API_KEY: 'test',
    OPENAI_API_MODE: 'responses',
    DEFAULT_MODEL: MODEL,
    MODELS: MODEL,
    MODEL_CONTEXT_WINDOWS: `${MODEL}=2000`,
  });
});
afterAll(async () => {
  client?.ws.terminate();
  await server?.close();
  await fake?.close();
});

async function say(c: TestClient, content: string, parentId?: string): Promise<ServerEvent[]> {
  const from = c.events.length;
  c.send({ type: 'message', messages: [{ content }], ...(parentId ? { parent_id: parentId } : {}) });
  const events = await c.turn(from);
  expect(field(events.at(-1), 'finish_reason')).toBe('stop');
  return events;
}

describe('automatic summarization on branches', () => {
  it('a summary made at the threshold on one branch never reaches another, and an earlier branch point keeps its words', async () => {
    const api = apiClient(server.baseUrl);
    const id = (await api('POST', '/sessions', {})).body.session_id as string;
    client = await TestClient.open(`${server.wsUrl}/ws/chat/${id}`);
    await say(client, 'shared opening words');
    const [, sharedAnswer] = (await api('GET', `/sessions/${id}/messages`)).body.messages as Array<{ id: string }>;

    // Branch A grows past the threshold: a turn summarizes its older part before calling the model.
    let summarized = false;
    for (let i = 0; i < 6 && !summarized; i++) {
      const events = await say(client, notes('alpha', 450));
      summarized = events.some((e) => field(e, 'tool_name') === SUMMARY_TOOL_NAME && e.type === 'function_completed' && field(e, 'tool_success') === true);
    }
    expect(summarized).toBe(true);
    const alphaInput = JSON.stringify(chatRequests().at(-1)!.body.input);
    expect(alphaInput).toContain(SUMMARY_PREFIX);

    // Branch B leaves right after the shared exchange: its own words, none of A's, no summary.
    await say(client, 'bravo question', sharedAnswer!.id);
    const bravoInput = JSON.stringify(chatRequests().at(-1)!.body.input);
    expect(bravoInput).toContain('shared opening words');
    expect(bravoInput).toContain('bravo question');
    expect(bravoInput).not.toContain('alpha');
    expect(bravoInput).not.toContain(SUMMARY_PREFIX);
    const session = (await api('GET', `/sessions/${id}`)).body.session as { total_tokens: number };
    expect(session.total_tokens).toBeLessThan(400);
  });
});
