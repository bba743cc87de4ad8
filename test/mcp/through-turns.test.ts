/**
 * MCP servers through real chat turns: the whole server (createPulp) with an MCP config
 * file naming the real server-everything process plus the built-in `fetch` server, the fake model
 * over real HTTP scripting the tool calls, and `ws` clients.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ServerEvent } from '../../src/chat/events.js';
import { field, TestClient } from '../chat/harness.js';
import { apiClient } from '../support/api.js';
import { startFakeOpenAI, type FakeOpenAI, type FakeResponse, type RecordedRequest } from '../support/fake-openai.js';
import { outputFor, turnItems } from '../support/request-items.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { EVERYTHING_BIN, nodeServer, tempDir, writeMcpConfig, type TempDir } from './support.js';

const WORKSPACE_TOOLS = ['edit_file', 'generate_document', 'list_directory', 'read_file', 'search_documents', 'search_files'];
const CONCURRENT_TURNS = 5;

type Step = FakeResponse['steps'][number];

const toolNames = (request: RecordedRequest): string[] => ((request.body.tools ?? []) as Array<{ name: string }>).map((t) => t.name).sort();
const completed = (events: ServerEvent[]) => events.filter((e) => e.type === 'function_completed');

describe('MCP tools through real chat turns', () => {
  let fake: FakeOpenAI;
  let server: TestServer;
  let web: Server;
  let pageUrl: string;
  let dir: TempDir;
  let api: ReturnType<typeof apiClient>;
  const clients: TestClient[] = [];
  /** Per `[key]` of a user message: the steps of each model request of that turn, in order. */
  const scripts = new Map<string, Step[][]>();

  async function newSession(body: Record<string, unknown> = {}): Promise<{ id: string; client: TestClient }> {
    const created = await api('POST', '/sessions', { title: 'MCP', ...body });
    expect(created.status).toBe(201);
    const client = await TestClient.open(`${server.wsUrl}/ws/chat/${created.body.session_id}`);
    clients.push(client);
    return { id: created.body.session_id, client };
  }

  async function turn(client: TestClient, key: string, steps: Step[][]): Promise<ServerEvent[]> {
    scripts.set(key, steps);
    const from = client.events.length;
    client.message(`[${key}] please`);
    return client.turn(from);
  }

  /** The last model request of the turn keyed `key`. */
  const lastRequestOf = (key: string) => fake.requests.filter((r) => turnItems(r).user.startsWith(`[${key}]`)).at(-1)!;

  beforeAll(async () => {
    web = createServer((req, res) => {
      res.setHeader('content-type', 'text/html; charset=utf-8');
      res.end('<html><head><title>Orchard news</title></head><body><h1>Pears are ripe</h1><p>Pick them <b>today</b>.</p></body></html>');
    });
    await new Promise<void>((resolve) => web.listen(0, '127.0.0.1', resolve));
    pageUrl = `http://127.0.0.1:${(web.address() as AddressInfo).port}/news`;

    fake = await startFakeOpenAI();
    fake.setHandler((request) => {
      const { user, after } = turnItems(request);
      const key = /^\[([\w-]+)\]/.exec(user)?.[1] ?? '';
      const answered = after.filter((i) => i.type === 'function_call_output').length;
      return { steps: scripts.get(key)?.[answered] ?? [{ type: 'text', deltas: ['done ', key] }] };
    });

    dir = tempDir();
    const configPath = writeMcpConfig(dir.dir, {
      everything: { ...nodeServer(EVERYTHING_BIN, 'stdio'), description: 'reference server' },
      'sequential-thinking': { disabled: true },
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
        // The page is served from 127.0.0.1, which the fetch server refuses unless allowed.
        FETCH_ALLOWED_HOSTS: '127.0.0.1',
      },
      { mcpBuiltins: true },
    );
    api = apiClient(server.baseUrl);
  });

  afterAll(async () => {
    for (const c of clients) c.ws.terminate();
    await server?.close();
    await fake?.close();
    await new Promise((resolve) => web?.close(resolve));
    dir?.remove();
  });

  it('echo of server-everything runs in a turn and its result reaches the client and the next model request', async () => {
    const { client } = await newSession();
    const events = await turn(client, 'echo', [[{ type: 'tool_call', name: 'echo', arguments: { message: 'hello pulp' }, callId: 'call_echo' }]]);
    expect(completed(events)).toEqual([
      expect.objectContaining({ tool_call_id: 'call_echo', tool_name: 'echo', tool_result: 'Echo: hello pulp', tool_success: true }),
    ]);
    const last = lastRequestOf('echo');
    expect(outputFor(last, 'call_echo')).toBe('Echo: hello pulp');
    // A session created without mcp_config gets every enabled server: both MCP tools and the built-ins.
    expect(toolNames(last)).toEqual(expect.arrayContaining([...WORKSPACE_TOOLS, 'echo', 'get_sum', 'fetch']));
    expect(events.find((e) => e.type === 'assistant_end')).toMatchObject({ finish_reason: 'stop' });
  });

  it('the built-in fetch server reads a page from a local web server and its text reaches the client', async () => {
    const { client } = await newSession({ mcp_config: ['fetch'] });
    const events = await turn(client, 'fetch', [[{ type: 'tool_call', name: 'fetch', arguments: { url: pageUrl }, callId: 'call_fetch' }]]);
    const [fetched] = completed(events);
    expect(fetched).toMatchObject({ tool_name: 'fetch', tool_success: true });
    const text = field<string>(fetched, 'tool_result');
    expect(text).toContain('Orchard news');
    expect(text).toContain('# Pears are ripe');
    expect(text).toContain('Pick them **today**.');
    expect(outputFor(lastRequestOf('fetch'), 'call_fetch')).toContain('Pears are ripe');
    // Only the servers the session names: fetch, not everything.
    expect(toolNames(lastRequestOf('fetch'))).toEqual([...WORKSPACE_TOOLS, 'fetch'].sort());
  });

  it('a session created with mcp_config [] offers the model only the built-in workspace tools', async () => {
    const { id, client } = await newSession({ mcp_config: [] });
    expect((await api('GET', `/sessions/${id}`)).body.session.mcp_config).toEqual([]);
    const events = await turn(client, 'none', [[{ type: 'text', deltas: ['no tools here'] }]]);
    expect(events.find((e) => e.type === 'assistant_end')).toMatchObject({ finish_reason: 'stop' });
    expect(toolNames(lastRequestOf('none'))).toEqual(WORKSPACE_TOOLS);
  });

  it('an unknown or disabled MCP server name is refused with 422 at create and at update', async () => {
    for (const names of [['no-such-server'], ['sequential-thinking'], ['fetch', 'nope']]) {
      const created = await api('POST', '/sessions', { mcp_config: names });
      expect(created.status).toBe(422);
      expect(created.body.error.code).toBe('VAL_2001');
    }
    const { id } = await newSession({ mcp_config: ['fetch'] });
    const patched = await api('PATCH', `/sessions/${id}`, { mcp_config: ['everything', 'nope'] });
    expect(patched.status).toBe(422);
    expect((await api('GET', `/sessions/${id}`)).body.session.mcp_config).toEqual(['fetch']);
    expect((await api('PATCH', `/sessions/${id}`, { mcp_config: ['everything'] })).body.mcp_config).toEqual(['everything']);
  });

  it(`with a pool of one instance, ${CONCURRENT_TURNS} sessions calling an MCP tool at the same time all get their result`, async () => {
    expect(server.pulp.mcp.poolStats().get('everything')).toMatchObject({ total: 1 });
    // The model holds every first answer until all turns have asked, so the five calls contend for the one instance.
    let allArrived!: () => void;
    const barrier = new Promise<void>((resolve) => (allArrived = resolve));
    const sessions = await Promise.all(Array.from({ length: CONCURRENT_TURNS }, () => newSession({ mcp_config: ['everything'] })));
    const previous = fake.requests.length;
    const turns = sessions.map(({ client }, i) => {
      const steps: Step[][] = [[{ type: 'wait', until: barrier }, { type: 'tool_call', name: 'echo', arguments: { message: `turn ${i}` }, callId: `call_c${i}` }]];
      return turn(client, `conc-${i}`, steps);
    });
    const counting = (async () => {
      // Counting and re-arming the waiter happen in one step, so no request slips between them.
      while (fake.requests.slice(previous).filter((r) => /^\[conc-/.test(turnItems(r).user)).length < CONCURRENT_TURNS) await fake.nextRequest();
      allArrived();
    })();
    const results = await Promise.all(turns);
    await counting;
    results.forEach((events, i) => {
      expect(completed(events)).toEqual([expect.objectContaining({ tool_call_id: `call_c${i}`, tool_result: `Echo: turn ${i}`, tool_success: true })]);
      expect(events.find((e) => e.type === 'assistant_end')).toMatchObject({ finish_reason: 'stop' });
      expect(outputFor(lastRequestOf(`conc-${i}`), `call_c${i}`)).toBe(`Echo: turn ${i}`);
    });
    expect(server.pulp.mcp.poolStats().get('everything')).toMatchObject({ total: 1, leased: 0 });
  });
});
