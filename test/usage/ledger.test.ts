/**
 * The usage ledger through a real server: the fake OpenAI server answers turns, titles and
 * summaries with scripted usage numbers, and every model call leaves one `model_calls` row with
 * exactly those numbers, priced from MODEL_PRICES.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { apiClient } from '../support/api.js';
import { startFakeOpenAI, type FakeOpenAI, type FakeResponse, type RecordedRequest } from '../support/fake-openai.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { TestClient } from '../chat/harness.js';

type Usage = NonNullable<FakeResponse['usage']>;

let fake: FakeOpenAI;
let server: TestServer;
let api: ReturnType<typeof apiClient>;
let chatScript: FakeResponse[] = [];
const TITLE_USAGE: Usage = { input_tokens: 80, output_tokens: 5 };
const SUMMARY_USAGE: Usage = { input_tokens: 900, cached_tokens: 100, output_tokens: 120, reasoning_tokens: 20 };
const clients: TestClient[] = [];

function kindOf(req: RecordedRequest): 'summary' | 'title' | 'chat' {
  const instructions = String(req.body.instructions ?? '');
  const tools = (req.body.tools as unknown[] | undefined) ?? [];
  if (tools.length === 0 && /summar/i.test(instructions)) return 'summary';
  if (tools.length === 0 && /title/i.test(instructions)) return 'title';
  return 'chat';
}
const text = (answer: string, usage?: Usage): FakeResponse => ({ steps: [{ type: 'text', deltas: [answer] }], ...(usage ? { usage } : {}) });

beforeAll(async () => {
  fake = await startFakeOpenAI();
  fake.setHandler((req) => {
    const kind = kindOf(req);
    if (kind === 'summary') return text('The user greeted the assistant several times.', SUMMARY_USAGE);
    if (kind === 'title') return text('Greetings', TITLE_USAGE);
    return chatScript.shift();
  });
  server = await startTestServer({
    LLM_PROVIDER: 'openai',
    OPENAI_BASE_URL: fake.baseUrl,
    OPENAI_API_KEY: 'test',
    OPENAI_API_MODE: 'responses',
    DEFAULT_MODEL: 'gpt-4o-mini',
    MODELS: 'gpt-4o-mini,gpt-4o',
    // gpt-4o has no price: its calls are recorded with tokens only.
    MODEL_PRICES: JSON.stringify({ 'gpt-4o-mini': { input: 0.15, cached_input: 0.075, output: 0.6 } }),
  });
  api = apiClient(server.baseUrl);
});
afterEach(() => {
  for (const c of clients.splice(0)) c.ws.terminate();
  chatScript = [];
});
afterAll(async () => {
  await server?.close();
  await fake?.close();
});

async function newSession(model?: string): Promise<{ id: string; uuid: string; client: TestClient }> {
  const created = await api('POST', '/sessions', model ? { model } : {});
  expect(created.status).toBe(201);
  const id = created.body.session_id as string;
  const client = await TestClient.open(`${server.wsUrl}/ws/chat/${id}`);
  clients.push(client);
  const { rows } = await server.database.db.query<{ id: string }>('SELECT id FROM sessions WHERE session_id = $1', [id]);
  return { id, uuid: rows[0]!.id, client };
}

async function say(client: TestClient, content: string) {
  const from = client.events.length;
  client.message(content);
  return client.turn(from);
}

interface CallRow {
  purpose: string;
  model: string;
  provider: string;
  turn_id: string | null;
  input_tokens: number;
  cached_input_tokens: number;
  output_tokens: number;
  reasoning_tokens: number;
  cost: number | null;
}

async function calls(where: string, params: string[]): Promise<CallRow[]> {
  const { rows } = await server.database.db.query<Record<string, unknown>>(
    `SELECT purpose, model, provider, turn_id, input_tokens, cached_input_tokens, output_tokens, reasoning_tokens, cost
     FROM model_calls WHERE ${where} ORDER BY id`,
    params,
  );
  return rows.map((r) => ({
    ...(r as unknown as CallRow),
    input_tokens: Number(r.input_tokens),
    cached_input_tokens: Number(r.cached_input_tokens),
    output_tokens: Number(r.output_tokens),
    reasoning_tokens: Number(r.reasoning_tokens),
    cost: r.cost === null ? null : Number(r.cost),
  }));
}

const tokens = (u: Usage) => ({
  input_tokens: u.input_tokens,
  cached_input_tokens: u.cached_tokens ?? 0,
  output_tokens: u.output_tokens,
  reasoning_tokens: u.reasoning_tokens ?? 0,
});

describe('the usage ledger', () => {
  it('a turn with a tool call leaves one row per model request and one for the title, with the provider’s numbers and their cost', async () => {
    const { uuid, client } = await newSession();
    const first: Usage = { input_tokens: 1_000, cached_tokens: 200, output_tokens: 50, reasoning_tokens: 10 };
    const second: Usage = { input_tokens: 1_200, output_tokens: 30 };
    chatScript.push({ steps: [{ type: 'tool_call', name: 'list_directory', arguments: { path: '.' } }], usage: first }, text('The workspace is empty.', second));
    const events = await say(client, 'What is in my workspace?');
    expect(events.at(-1)).toMatchObject({ type: 'assistant_end', finish_reason: 'stop' });
    await client.waitForType('session_updated');
    const turnId = (events[0] as { turn_id: string }).turn_id;

    const rows = await calls('session_id = $1', [uuid]);
    expect(rows).toEqual([
      // (800 × 0.15 + 200 × 0.075 + 50 × 0.6) / 10⁶: cached input at its own price, reasoning as output.
      { purpose: 'turn', model: 'gpt-4o-mini', provider: 'openai', turn_id: turnId, ...tokens(first), cost: 0.000165 },
      { purpose: 'turn', model: 'gpt-4o-mini', provider: 'openai', turn_id: turnId, ...tokens(second), cost: 0.000198 },
      { purpose: 'title', model: 'gpt-4o-mini', provider: 'openai', turn_id: turnId, ...tokens(TITLE_USAGE), cost: 0.000015 },
    ]);
  });

  it('a forced summary leaves a summary row with the provider’s numbers', async () => {
    const { id, uuid, client } = await newSession();
    for (const words of ['Hello there.', 'Hello again.', 'And hello once more.', 'A last hello.']) {
      chatScript.push(text('Hi!', { input_tokens: 10, output_tokens: 2 }));
      await say(client, words);
    }
    const summarized = await api('POST', `/sessions/${id}/summarize`);
    expect(summarized.status).toBe(200);
    expect(summarized.body.success).toBe(true);
    const rows = await calls(`session_id = $1 AND purpose = 'summary'`, [uuid]);
    // (800 × 0.15 + 100 × 0.075 + 120 × 0.6) / 10⁶
    expect(rows).toEqual([{ purpose: 'summary', model: 'gpt-4o-mini', provider: 'openai', turn_id: null, ...tokens(SUMMARY_USAGE), cost: 0.0001995 }]);
  });

  it('a model without a price is recorded with its tokens and no cost; a deleted session’s rows stay with the user', async () => {
    const { id, uuid, client } = await newSession('gpt-4o');
    chatScript.push(text('Hi!', { input_tokens: 40, output_tokens: 4 }));
    const events = await say(client, 'Hello');
    await client.waitForType('session_updated');
    const turnId = (events[0] as { turn_id: string }).turn_id;
    expect(await calls('session_id = $1', [uuid])).toEqual([
      { purpose: 'turn', model: 'gpt-4o', provider: 'openai', turn_id: turnId, input_tokens: 40, cached_input_tokens: 0, output_tokens: 4, reasoning_tokens: 0, cost: null },
      { purpose: 'title', model: 'gpt-4o', provider: 'openai', turn_id: turnId, ...tokens(TITLE_USAGE), cost: null },
    ]);

    expect((await api('DELETE', `/sessions/${id}`)).status).toBe(200);
    const kept = await calls('session_id IS NULL AND turn_id = $1', [turnId]);
    expect(kept.map((r) => r.purpose)).toEqual(['turn', 'title']);
  });

  it('a summary is recorded and counts but is never refused; it can use up the budget, and the next turn is refused', async () => {
    const { id, client } = await newSession();
    for (const words of ['Hello there.', 'Hello again.', 'And hello once more.', 'A last hello.']) {
      chatScript.push(text('Hi!', { input_tokens: 10, output_tokens: 2 }));
      await say(client, words);
    }
    const { rows } = await server.database.db.query<{ id: string; tokens: number | string }>(
      `SELECT u.id, d.tokens FROM users u JOIN usage_daily d ON d.user_id = u.id AND d.day = (now() AT TIME ZONE 'UTC')::date`,
    );
    const user = rows[0]!;
    // An administrator's daily budget for this user: 10 tokens of room left.
    await server.database.db.query(`UPDATE users SET quota = jsonb_build_object('tokens_per_day', $2::bigint) WHERE id = $1`, [user.id, Number(user.tokens) + 10]);
    try {
      const summarized = await api('POST', `/sessions/${id}/summarize`);
      expect(summarized.body.success).toBe(true);
      const requests = fake.requests.length;
      const refused = await say(client, 'Still there?');
      expect(refused.find((e) => e.type === 'error')).toMatchObject({ code: 'QUOTA_3101' });
      expect(fake.requests.length).toBe(requests);
    } finally {
      await server.database.db.query(`UPDATE users SET quota = '{}'::jsonb WHERE id = $1`, [user.id]);
    }
  });

  it('Prometheus counts calls, tokens and cost per model and provider, without user labels', async () => {
    const metrics = await (await fetch(`${server.baseUrl}/metrics`)).text();
    const value = (prefix: string) => Number(metrics.split('\n').find((l) => l.startsWith(prefix))?.split(' ').at(-1));
    expect(value('pulp_model_calls_total{model="gpt-4o-mini",provider="openai",purpose="turn"}')).toBeGreaterThanOrEqual(5);
    expect(value('pulp_model_calls_total{model="gpt-4o-mini",provider="openai",purpose="summary"}')).toBe(2);
    expect(value('pulp_model_tokens_total{model="gpt-4o",provider="openai",kind="input"}')).toBe(40 + TITLE_USAGE.input_tokens);
    expect(value('pulp_model_tokens_total{model="gpt-4o-mini",provider="openai",kind="cached_input"}')).toBe(200 + 2 * 100);
    expect(value('pulp_model_cost_usd_total{model="gpt-4o-mini",provider="openai"}')).toBeGreaterThan(0.0005);
    expect(metrics).not.toMatch(/pulp_model_\w+\{[^}]*user/);
  });
});
