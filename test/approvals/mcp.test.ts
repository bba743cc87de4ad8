/**
 * Approval of MCP tools through real chat turns, with server-everything's entry in mcpServers
 * setting `"approval"` and per-tool `"tools"`, under TOOL_APPROVAL=auto: nothing asks unless the
 * entry says so. A paused turn holds no lease of the server's pool and no model request.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ServerEvent } from '../../src/chat/events.js';
import { field, TestClient } from '../chat/harness.js';
import { apiClient } from '../support/api.js';
import { startFakeOpenAI, type FakeOpenAI, type FakeResponse } from '../support/fake-openai.js';
import { outputFor, turnItems } from '../support/request-items.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { EVERYTHING_BIN, nodeServer, tempDir, writeMcpConfig, type TempDir } from '../mcp/support.js';

type Step = FakeResponse['steps'][number];

describe('approval of MCP tools', () => {
  let fake: FakeOpenAI;
  let server: TestServer;
  let dir: TempDir;
  let api: ReturnType<typeof apiClient>;
  const clients: TestClient[] = [];
  const scripts = new Map<string, Step[][]>();

  async function turnUntilEnd(client: TestClient, key: string, steps: Step[][]): Promise<ServerEvent[]> {
    scripts.set(key, steps);
    const from = client.events.length;
    client.message(`[${key}] please`);
    return client.turn(from);
  }

  async function newSession(): Promise<{ id: string; client: TestClient }> {
    const created = await api('POST', '/sessions', { title: 'MCP approvals', mcp_config: ['everything'] });
    const client = await TestClient.open(`${server.wsUrl}/ws/chat/${created.body.session_id}`);
    clients.push(client);
    return { id: created.body.session_id, client };
  }

  const leased = () => server.pulp.mcp.pool('everything')?.stats().leased;

  beforeAll(async () => {
    fake = await startFakeOpenAI();
    fake.setHandler((request) => {
      const { user, after } = turnItems(request);
      const key = /^\[([\w-]+)\]/.exec(user)?.[1] ?? '';
      const answered = after.filter((i) => i.type === 'function_call_output').length;
      return { steps: scripts.get(key)?.[answered] ?? [{ type: 'text', deltas: ['done ', key] }] };
    });
    dir = tempDir();
    const configPath = writeMcpConfig(dir.dir, {
      everything: { ...nodeServer(EVERYTHING_BIN, 'stdio'), approval: 'auto', tools: { echo: 'ask', get_sum: 'deny' } },
      'sequential-thinking': { disabled: true },
      fetch: { disabled: true },
    });
    server = await startTestServer(
      {
        OPENAI_BASE_URL: fake.baseUrl,
        OPENAI_API_KEY: 'test',
        LLM_PROVIDER: 'openai',
        OPENAI_API_MODE: 'responses',
        DEFAULT_MODEL: 'gpt-4o-mini',
        MCP_CONFIG: configPath,
        MCP_POOL_SIZE: '1',
        TOOL_APPROVAL: 'auto',
      },
      { mcpBuiltins: true },
    );
    api = apiClient(server.baseUrl);
  });

  afterAll(async () => {
    for (const c of clients) c.ws.terminate();
    await server?.close();
    await fake?.close();
    dir?.remove();
  });

  it('a tool the entry marks "ask" pauses without holding a lease or a model request; approved, it runs once', async () => {
    const { id, client } = await newSession();
    const paused = await turnUntilEnd(client, 'echo', [[{ type: 'tool_call', name: 'echo', arguments: { message: 'hi' }, callId: 'call_echo' }]]);
    expect(paused.at(-1)).toMatchObject({ finish_reason: 'paused' });
    expect(paused.find((e) => e.type === 'approval_required')).toMatchObject({ tool_name: 'echo', tool_arguments: { message: 'hi' } });
    expect(leased()).toBe(0);
    expect(fake.openRequests()).toBe(0);

    const from = client.events.length;
    const decided = await api('POST', `/sessions/${id}/approvals/call_echo`, { decision: 'approve' });
    expect(decided.status).toBe(200);
    await client.waitFor((e) => e.type === 'assistant_end' && e.turn_id === paused[0]!.turn_id, from);
    const completed = client.events.slice(from).filter((e) => e.type === 'function_completed');
    expect(completed).toEqual([expect.objectContaining({ tool_call_id: 'call_echo', tool_result: 'Echo: hi', tool_success: true })]);
    expect(outputFor(fake.requests.at(-1)!, 'call_echo')).toBe('Echo: hi');
    expect(leased()).toBe(0);
  });

  it('a tool the entry marks "deny" never runs: the model gets the refusal, nobody is asked', async () => {
    const { client } = await newSession();
    const events = await turnUntilEnd(client, 'sum', [[{ type: 'tool_call', name: 'get_sum', arguments: { a: 1, b: 2 }, callId: 'call_sum' }]]);
    expect(events.at(-1)).toMatchObject({ finish_reason: 'stop' });
    expect(events.filter((e) => e.type === 'approval_required')).toEqual([]);
    const done = events.find((e) => e.type === 'function_completed');
    expect(done).toMatchObject({ tool_success: false });
    expect(field<string>(done, 'tool_result')).toContain('AUTH_1020');
    expect(outputFor(fake.requests.at(-1)!, 'call_sum')).toContain('is not allowed here');
  });

  it('the other tools of the server follow its "approval": auto', async () => {
    const { client } = await newSession();
    const events = await turnUntilEnd(client, 'env', [[{ type: 'tool_call', name: 'get_env', arguments: {}, callId: 'call_env' }]]);
    expect(events.filter((e) => e.type === 'approval_required')).toEqual([]);
    expect(events.at(-1)).toMatchObject({ finish_reason: 'stop' });
  });
});
