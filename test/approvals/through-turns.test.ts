/**
 * Tool approval through real chat turns: the whole server (createPulp) with TOOL_APPROVAL=ask, the
 * fake model over real HTTP scripting tool calls, `ws` clients deciding, and the files and
 * approvals REST APIs.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ServerEvent } from '../../src/chat/events.js';
import { field, TestClient } from '../chat/harness.js';
import { apiClient } from '../support/api.js';
import { startFakeOpenAI, type FakeOpenAI, type FakeResponse } from '../support/fake-openai.js';
import { outputFor, turnItems } from '../support/request-items.js';
import { startTestServer, type TestServer } from '../support/server.js';

type Step = Extract<FakeResponse['steps'][number], { type: 'tool_call' }>;

/** `[key] ...` answers with the key's responses in turn (one per model request after the user's words), then "done <key>". */
function scriptedModel(fake: FakeOpenAI, scripts: Map<string, Step[][]>): void {
  fake.setHandler((request) => {
    const { user, after } = turnItems(request);
    const key = /^\[([\w-]+)\]/.exec(user)?.[1] ?? '';
    const responses = after.filter((i) => i.type === 'function_call_output').length;
    const calls = scripts.get(key) ?? [];
    let answered = 0;
    for (const [i, response] of calls.entries()) {
      answered += response.length;
      if (responses < answered) return { steps: calls[i]! };
    }
    return { steps: [{ type: 'text', deltas: ['done ', key] }] };
  });
}

const doc = (callId: string, filename: string): Step => ({ type: 'tool_call', name: 'generate_document', arguments: { filename, content: `# ${filename}` }, callId });
const ofType = (events: ServerEvent[], type: ServerEvent['type']) => events.filter((e) => e.type === type);

describe('tool approval through real chat turns', () => {
  let fake: FakeOpenAI;
  let server: TestServer;
  let api: ReturnType<typeof apiClient>;
  const scripts = new Map<string, Step[][]>();

  async function session(): Promise<{ id: string; client: TestClient }> {
    const created = await api('POST', '/sessions', { title: 'Approvals' });
    const id = created.body.session_id as string;
    return { id, client: await TestClient.open(`${server.wsUrl}/ws/chat/${id}`) };
  }

  /** Sends `[key] please` and resolves with the events up to the pause (`assistant_end{paused}`). */
  async function pausedTurn(client: TestClient, key: string, responses: Step[][]): Promise<ServerEvent[]> {
    scripts.set(key, responses);
    const from = client.events.length;
    client.message(`[${key}] please`);
    const start = await client.waitForType('assistant_start', from);
    await client.waitFor((e) => e.type === 'assistant_end' && e.turn_id === start.turn_id, from);
    return client.events.slice(from).filter((e) => e.turn_id === start.turn_id);
  }

  /** Events of `turnId` from index `from` up to its next `assistant_end`. */
  async function untilEnd(client: TestClient, turnId: string, from: number): Promise<ServerEvent[]> {
    await client.waitFor((e) => e.type === 'assistant_end' && e.turn_id === turnId, from);
    return client.events.slice(from).filter((e) => e.turn_id === turnId);
  }

  const outputFile = (id: string, name: string) => path.join(server.dataDir, 'sessions', id, 'output', name);

  beforeAll(async () => {
    fake = await startFakeOpenAI();
    scriptedModel(fake, scripts);
    server = await startTestServer({
      OPENAI_BASE_URL: fake.baseUrl,
      OPENAI_API_KEY: 'test',
      LLM_PROVIDER: 'openai',
      OPENAI_API_MODE: 'responses',
      DEFAULT_MODEL: 'gpt-4o-mini',
      TOOL_APPROVAL: 'ask',
    });
    api = apiClient(server.baseUrl);
  });

  afterAll(async () => {
    await server?.close();
    await fake?.close();
  });

  it('a call that needs approval pauses the turn, holding no model request; approve runs it once and the same turn ends', async () => {
    const { id, client } = await session();
    const paused = await pausedTurn(client, 'approve', [[doc('call_a', 'a.md')]]);
    const turnId = paused[0]!.turn_id!;
    expect(ofType(paused, 'approval_required')).toEqual([
      expect.objectContaining({ tool_call_id: 'call_a', tool_name: 'generate_document', tool_arguments: { filename: 'a.md', content: '# a.md' }, expires_at: expect.any(String) }),
    ]);
    expect(paused.at(-1)).toMatchObject({ type: 'assistant_end', finish_reason: 'paused' });
    expect(ofType(paused, 'function_completed')).toEqual([]);
    expect(fake.openRequests()).toBe(0);
    expect(existsSync(outputFile(id, 'a.md'))).toBe(false);

    const pending = await api('GET', `/sessions/${id}/approvals`);
    expect(pending.body.approvals).toEqual([expect.objectContaining({ tool_call_id: 'call_a', status: 'pending', turn_id: turnId })]);
    const rows = await api('GET', `/sessions/${id}/messages`);
    expect(rows.body.messages.at(-1)).toMatchObject({ role: 'tool_call', tool_call_id: 'call_a', status: 'awaiting_approval', approval: { decision: 'pending' } });

    const from = client.events.length;
    client.send({ type: 'approve', tool_call_id: 'call_a' });
    const rest = await untilEnd(client, turnId, from);
    expect(rest.map((e) => e.type)).toEqual(expect.arrayContaining(['approval_resolved', 'assistant_start', 'function_executing', 'function_completed', 'assistant_end']));
    expect(ofType(rest, 'approval_resolved')[0]).toMatchObject({ tool_call_id: 'call_a', decision: 'approved', by: expect.any(String) });
    expect(ofType(rest, 'function_completed')).toEqual([expect.objectContaining({ tool_call_id: 'call_a', tool_success: true })]);
    expect(rest.at(-1)).toMatchObject({ type: 'assistant_end', finish_reason: 'stop' });
    // seq goes on from the pause, without gaps.
    const seqs = client.events.filter((e) => e.turn_id === turnId).map((e) => e.seq);
    expect(seqs).toEqual(seqs.map((_, i) => i + 1));
    expect(existsSync(outputFile(id, 'a.md'))).toBe(true);
    expect(outputFor(fake.requests.at(-1)!, 'call_a')).toContain('"success":true');

    const after = await api('GET', `/sessions/${id}/messages`);
    const row = after.body.messages.find((m: { tool_call_id: string }) => m.tool_call_id === 'call_a');
    expect(row).toMatchObject({ status: 'completed', approval: { decision: 'approved', by: expect.any(String), at: expect.any(String) } });
    expect((await api('GET', `/sessions/${id}/approvals`)).body.approvals).toEqual([]);
    const again = await api('POST', `/sessions/${id}/approvals/call_a`, { decision: 'approve' });
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('RES_3061');
    client.ws.terminate();
  });

  it('deny with a reason: the tool does not run and the model reads the denial and the reason as the result', async () => {
    const { id, client } = await session();
    const paused = await pausedTurn(client, 'deny', [[doc('call_d', 'd.md')]]);
    const turnId = paused[0]!.turn_id!;
    const from = client.events.length;
    client.send({ type: 'deny', tool_call_id: 'call_d', reason: 'not that file' });
    const rest = await untilEnd(client, turnId, from);
    expect(ofType(rest, 'approval_resolved')[0]).toMatchObject({ decision: 'denied' });
    expect(ofType(rest, 'function_executing')).toEqual([]);
    expect(ofType(rest, 'function_completed')[0]).toMatchObject({ tool_call_id: 'call_d', tool_success: false });
    expect(existsSync(outputFile(id, 'd.md'))).toBe(false);
    const seen = outputFor(fake.requests.at(-1)!, 'call_d');
    expect(seen).toContain('denied this call; it did not run');
    expect(seen).toContain('not that file');
    const rows = await api('GET', `/sessions/${id}/messages`);
    expect(rows.body.messages.find((m: { tool_call_id: string }) => m.tool_call_id === 'call_d')).toMatchObject({
      status: 'denied',
      approval: { decision: 'denied', reason: 'not that file' },
    });
    client.ws.terminate();
  });

  it('"always": the approved tool runs without asking for the rest of the chat, and only in that chat', async () => {
    const { id, client } = await session();
    const paused = await pausedTurn(client, 'always-1', [[doc('call_x1', 'x1.md')]]);
    const from = client.events.length;
    client.send({ type: 'approve', tool_call_id: 'call_x1', always: true });
    await untilEnd(client, paused[0]!.turn_id!, from);
    const next = await pausedTurn(client, 'always-2', [[doc('call_x2', 'x2.md')]]);
    expect(next.at(-1)).toMatchObject({ finish_reason: 'stop' });
    expect(ofType(next, 'approval_required')).toEqual([]);
    expect(existsSync(outputFile(id, 'x2.md'))).toBe(true);
    client.ws.terminate();

    const other = await session();
    const asked = await pausedTurn(other.client, 'always-3', [[doc('call_x3', 'x3.md')]]);
    expect(asked.at(-1)).toMatchObject({ finish_reason: 'paused' });
    other.client.send({ type: 'interrupt' });
    other.client.ws.terminate();
  });

  it('two calls pending at once are decided one by one; the turn goes on after the last, with both results', async () => {
    const { id, client } = await session();
    const paused = await pausedTurn(client, 'two', [[doc('call_t1', 't1.md'), doc('call_t2', 't2.md')]]);
    const turnId = paused[0]!.turn_id!;
    expect(ofType(paused, 'approval_required').map((e) => field(e, 'tool_call_id'))).toEqual(['call_t1', 'call_t2']);
    const requestsBefore = fake.requests.length;
    const from = client.events.length;
    client.send({ type: 'approve', tool_call_id: 'call_t1' });
    await client.waitFor((e) => e.type === 'approval_resolved' && field(e, 'tool_call_id') === 'call_t1', from);
    expect((await api('GET', `/sessions/${id}/approvals`)).body.approvals.map((a: { tool_call_id: string }) => a.tool_call_id)).toEqual(['call_t2']);
    const decided = await api('POST', `/sessions/${id}/approvals/call_t2`, { decision: 'deny' });
    expect(decided.status).toBe(200);
    expect(decided.body).toMatchObject({ tool_call_id: 'call_t2', status: 'denied' });
    const rest = await untilEnd(client, turnId, from);
    expect(ofType(rest, 'assistant_start')).toHaveLength(1);
    expect(rest.at(-1)).toMatchObject({ finish_reason: 'stop' });
    expect(fake.requests.length).toBe(requestsBefore + 1);
    const last = fake.requests.at(-1)!;
    expect(outputFor(last, 'call_t1')).toContain('"success":true');
    expect(outputFor(last, 'call_t2')).toContain('denied this call');
    expect(existsSync(outputFile(id, 't1.md'))).toBe(true);
    expect(existsSync(outputFile(id, 't2.md'))).toBe(false);
    client.ws.terminate();
  });

  it('an interrupt while a call waits ends the turn: the call completes as interrupted and the next turn is valid', async () => {
    const { id, client } = await session();
    const paused = await pausedTurn(client, 'stop', [[doc('call_s', 's.md')]]);
    const turnId = paused[0]!.turn_id!;
    const from = client.events.length;
    client.send({ type: 'interrupt' });
    const done = await client.waitFor((e) => e.type === 'function_completed' && e.turn_id === turnId, from);
    expect(done).toMatchObject({ tool_call_id: 'call_s', tool_success: false, interrupted: true });
    expect(client.events.slice(from)).toContainEqual(expect.objectContaining({ type: 'approval_resolved', decision: 'interrupted', by: 'the user' }));
    expect(await client.waitFor((e) => e.type === 'assistant_end' && e.turn_id === turnId, from)).toMatchObject({ finish_reason: 'interrupted' });
    expect((await api('GET', `/sessions/${id}/approvals`)).body.approvals).toEqual([]);
    const decided = await api('POST', `/sessions/${id}/approvals/call_s`, { decision: 'approve' });
    expect(decided.status).toBe(409);
    const next = await pausedTurn(client, 'after-stop', []);
    expect(next.at(-1)).toMatchObject({ finish_reason: 'stop' });
    expect(outputFor(fake.requests.at(-1)!, 'call_s')).toContain('Interrupted by the user');
    expect(existsSync(outputFile(id, 's.md'))).toBe(false);
    client.ws.terminate();
  });

  it('a new message while a call waits ends the paused turn as interrupted by it, then runs', async () => {
    const { id, client } = await session();
    await pausedTurn(client, 'replaced', [[doc('call_r', 'r.md')]]);
    const next = await pausedTurn(client, 'newer', []);
    expect(next.at(-1)).toMatchObject({ finish_reason: 'stop' });
    expect(outputFor(fake.requests.at(-1)!, 'call_r')).toContain('Interrupted by a new message');
    const rows = await api('GET', `/sessions/${id}/messages`);
    expect(rows.body.messages.find((m: { tool_call_id: string }) => m.tool_call_id === 'call_r')).toMatchObject({ status: 'interrupted', approval: { decision: 'interrupted' } });
    client.ws.terminate();
  });

  it('bad decisions get clear errors: unknown call 404, bad body 422, another session 404', async () => {
    const { id, client } = await session();
    const unknown = await api('POST', `/sessions/${id}/approvals/call_nope`, { decision: 'approve' });
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.code).toBe('RES_3060');
    const bad = await api('POST', `/sessions/${id}/approvals/call_nope`, { decision: 'maybe' });
    expect(bad.status).toBeGreaterThanOrEqual(400);
    expect(bad.status).toBeLessThan(500);
    const missing = await api('GET', `/sessions/chat_000000000000/approvals`);
    expect(missing.status).toBe(404);
    const from = client.events.length;
    client.send({ type: 'approve', tool_call_id: 'call_nope' });
    expect(await client.waitForType('error', from)).toMatchObject({ code: 'RES_3060', recoverable: true });
    client.ws.terminate();
  });
});
