/**
 * Workspace files and tools through real chat turns: the whole server (createPulp) with the fake model
 * over real HTTP scripting tool calls, a `ws` client, the files REST API and, where it runs here,
 * the real bubblewrap sandbox.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ServerEvent } from '../../src/chat/events.js';
import { field, TestClient } from '../chat/harness.js';
import { apiClient } from '../support/api.js';
import { startFakeOpenAI, type FakeOpenAI, type FakeResponse } from '../support/fake-openai.js';
import { outputFor, turnItems } from '../support/request-items.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { sandboxSupport, warnIfSkipped } from './support.js';

const PNG_MAGIC = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const CSV = 'month,sales\nJan,10\nFeb,14\nMar,9\nApr,17\n';
const noSandbox = warnIfSkipped('workspace/through-turns.test.ts');

type Step = Extract<FakeResponse['steps'][number], { type: 'tool_call' }>;

/**
 * A model scripted per user message: `[key] ...` makes one tool call per model request (the
 * next one after the outputs it already got), then answers "done <key>".
 */
function scriptedModel(fake: FakeOpenAI, scripts: Map<string, Step[]>): void {
  fake.setHandler((request) => {
    const { user, after } = turnItems(request);
    const key = /^\[([\w-]+)\]/.exec(user)?.[1] ?? '';
    const answered = after.filter((i) => i.type === 'function_call_output').length;
    const next = scripts.get(key)?.[answered];
    return { steps: next ? [next] : [{ type: 'text', deltas: ['done ', key] }] };
  });
}

const completed = (events: ServerEvent[]) => events.filter((e) => e.type === 'function_completed');
const endOf = (events: ServerEvent[]) => events.find((e) => e.type === 'assistant_end');

describe('the workspace through real chat turns', () => {
  let fake: FakeOpenAI;
  let server: TestServer;
  let api: ReturnType<typeof apiClient>;
  let sessionId: string;
  let client: TestClient;
  const scripts = new Map<string, Step[]>();
  const call = (name: string, args: Record<string, unknown>, callId: string): Step => ({ type: 'tool_call', name, arguments: args, callId });

  /** Sends `[key] text` and resolves with the events of that turn. */
  async function turn(key: string, steps: Step[]): Promise<ServerEvent[]> {
    scripts.set(key, steps);
    const from = client.events.length;
    client.message(`[${key}] please`);
    return client.turn(from);
  }

  beforeAll(async () => {
    fake = await startFakeOpenAI();
    scriptedModel(fake, scripts);
    server = await startTestServer({
      OPENAI_BASE_URL: fake.baseUrl,
      OPENAI_API_KEY: 'test',
      LLM_PROVIDER: 'openai',
      OPENAI_API_MODE: 'responses',
      DEFAULT_MODEL: 'gpt-4o-mini',
      CODE_INTERPRETER: noSandbox ? 'off' : 'auto',
    });
    api = apiClient(server.baseUrl);
    const created = await api('POST', '/sessions', { title: 'Sales' });
    expect(created.status).toBe(201);
    sessionId = created.body.session_id;

    const form = new FormData();
    form.append('folder', 'input');
    form.append('file', new Blob([CSV], { type: 'text/csv' }), 'sales.csv');
    const uploaded = await fetch(`${server.baseUrl}/api/v1/sessions/${sessionId}/files`, { method: 'POST', body: form });
    expect(uploaded.status).toBe(201);
    expect(await uploaded.json()).toMatchObject({ name: 'sales.csv', folder: 'input', path: 'sales.csv' });

    client = await TestClient.open(`${server.wsUrl}/ws/chat/${sessionId}`);
  });

  afterAll(async () => {
    client?.ws.terminate();
    await server?.close();
    await fake?.close();
  });

  it('the agent lists and reads an uploaded CSV, and both results reach the client and the next model request', async () => {
    const events = await turn('list-read', [
      call('list_directory', { path: 'input' }, 'call_list'),
      call('read_file', { path: 'input/sales.csv' }, 'call_read'),
    ]);
    expect(endOf(events)).toMatchObject({ finish_reason: 'stop' });
    const [listed, read] = completed(events);
    expect(listed).toMatchObject({ tool_call_id: 'call_list', tool_name: 'list_directory', tool_success: true });
    expect(JSON.parse(field<string>(listed, 'tool_result'))).toMatchObject({
      success: true,
      entries: [expect.objectContaining({ name: 'sales.csv', type: 'file', size: CSV.length, path: 'input/sales.csv' })],
    });
    expect(read).toMatchObject({ tool_call_id: 'call_read', tool_name: 'read_file', tool_success: true });
    expect(field<string>(read, 'tool_result')).toContain('Feb,14');

    const last = fake.requests.at(-1)!;
    expect(outputFor(last, 'call_list')).toBe(field(listed, 'tool_result'));
    expect(outputFor(last, 'call_read')).toBe(field(read, 'tool_result'));
    expect(events.filter((e) => e.type === 'assistant_delta').map((e) => field(e, 'content')).join('')).toBe('done list-read');
  });

  it('an edit returns its unified diff to the client and the model, and the file changes on disk', async () => {
    const events = await turn('edit', [call('edit_file', { path: 'input/sales.csv', edits: [{ old_text: 'Feb,14', new_text: 'Feb,41' }] }, 'call_edit')]);
    const [edited] = completed(events);
    expect(edited).toMatchObject({ tool_name: 'edit_file', tool_success: true });
    const diff = String(JSON.parse(field<string>(edited, 'tool_result')).diff);
    expect(diff).toContain('-Feb,14');
    expect(diff).toContain('+Feb,41');
    expect(diff).toMatch(/^--- .*sales\.csv/m);
    expect(outputFor(fake.requests.at(-1)!, 'call_edit')).toContain('+Feb,41');

    const download = await fetch(`${server.baseUrl}/api/v1/sessions/${sessionId}/files/input/sales.csv`);
    expect(await download.text()).toBe(CSV.replace('Feb,14', 'Feb,41'));
  });

  it('a generated document appears in the output folder listing and downloads with its content', async () => {
    const content = '# Sales report\n\nApril was the best month.\n';
    const events = await turn('doc', [call('generate_document', { filename: 'report.md', content }, 'call_doc')]);
    expect(completed(events)[0]).toMatchObject({ tool_name: 'generate_document', tool_success: true });
    expect(outputFor(fake.requests.at(-1)!, 'call_doc')).toContain('output/report.md');

    const listing = await api('GET', `/sessions/${sessionId}/files?folder=output`);
    expect(listing.status).toBe(200);
    expect(listing.body.files).toEqual([expect.objectContaining({ name: 'report.md', size: Buffer.byteLength(content) })]);
    const download = await fetch(`${server.baseUrl}/api/v1/sessions/${sessionId}/files/output/report.md`);
    expect(await download.text()).toBe(content);
  });

  it('a hostile path from the model is refused with FILE_5004 and the turn still ends normally', async () => {
    const events = await turn('hostile', [call('read_file', { path: '../../etc/passwd' }, 'call_evil')]);
    const [refused] = completed(events);
    expect(refused).toMatchObject({ tool_name: 'read_file', tool_success: false });
    expect(JSON.parse(field<string>(refused, 'tool_result'))).toMatchObject({ success: false, error: { code: 'FILE_5004' } });
    expect(field<string>(refused, 'tool_result')).not.toContain('root:');
    expect(outputFor(fake.requests.at(-1)!, 'call_evil')).toContain('FILE_5004');
    expect(endOf(events)).toMatchObject({ finish_reason: 'stop' });
  });

  it.skipIf(noSandbox)('Python reads the uploaded CSV with pandas and its chart PNG downloads through the files API', async () => {
    expect(sandboxSupport().ok).toBe(true);
    const code = [
      'import pandas as pd',
      'import matplotlib.pyplot as plt',
      'df = pd.read_csv("input/sales.csv")',
      'print("total", df["sales"].sum())',
      'df.plot(x="month", y="sales", kind="bar")',
      'plt.savefig("output/chart.png")',
    ].join('\n');
    const events = await turn('python', [call('execute_python_code', { code }, 'call_py')]);
    const [ran] = completed(events);
    expect(ran).toMatchObject({ tool_name: 'execute_python_code', tool_success: true });
    const result = JSON.parse(field<string>(ran, 'tool_result'));
    // The CSV as it is now (an earlier test may have edited it), summed here to compare with pandas.
    const csv = await (await fetch(`${server.baseUrl}/api/v1/sessions/${sessionId}/files/input/sales.csv`)).text();
    const total = csv.trim().split('\n').slice(1).reduce((sum, line) => sum + Number(line.split(',')[1]), 0);
    expect(result).toMatchObject({ success: true, exit_code: 0, stdout: `total ${total}\n` });
    expect(result.files).toEqual([expect.objectContaining({ name: 'chart.png', path: 'output/chart.png', type: 'image/png' })]);
    expect(outputFor(fake.requests.at(-1)!, 'call_py')).toContain(`total ${total}`);

    const download = await fetch(`${server.baseUrl}/api/v1/sessions/${sessionId}/files/output/chart.png`);
    expect(download.status).toBe(200);
    expect(download.headers.get('content-type')).toBe('image/png');
    expect(Buffer.from(await download.arrayBuffer()).subarray(0, 8).equals(PNG_MAGIC)).toBe(true);
  });
});
