/** A call nobody answers within TOOL_APPROVAL_TIMEOUT_S is denied and the turn goes on without it. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestClient } from '../chat/harness.js';
import { apiClient } from '../support/api.js';
import { startFakeOpenAI, type FakeOpenAI } from '../support/fake-openai.js';
import { outputFor, turnItems } from '../support/request-items.js';
import { startTestServer, type TestServer } from '../support/server.js';

describe('the approval timeout', () => {
  let fake: FakeOpenAI;
  let server: TestServer;

  beforeAll(async () => {
    fake = await startFakeOpenAI();
    fake.setHandler((request) => {
      const answered = turnItems(request).after.filter((i) => i.type === 'function_call_output').length;
      if (answered > 0) return { steps: [{ type: 'text', deltas: ['ok'] }] };
      return { steps: [{ type: 'tool_call', name: 'edit_file', arguments: { path: 'notes.txt', edits: [{ old_text: 'a', new_text: 'b' }] }, callId: 'call_late' }] };
    });
    server = await startTestServer({
      OPENAI_BASE_URL: fake.baseUrl,
      OPENAI_API_KEY: 'test',
      LLM_PROVIDER: 'openai',
      OPENAI_API_MODE: 'responses',
      DEFAULT_MODEL: 'gpt-4o-mini',
      TOOL_APPROVAL: 'ask',
      TOOL_APPROVAL_TIMEOUT_S: '1',
    });
  });

  afterAll(async () => {
    await server?.close();
    await fake?.close();
  });

  it('an unanswered call expires: approval_resolved{expired}, the model reads that nobody approved, the turn ends', async () => {
    const api = apiClient(server.baseUrl);
    const id = (await api('POST', '/sessions', { title: 'Late' })).body.session_id as string;
    const client = await TestClient.open(`${server.wsUrl}/ws/chat/${id}`);
    client.message('edit my notes');
    const paused = await client.waitFor((e) => e.type === 'assistant_end');
    expect(paused).toMatchObject({ finish_reason: 'paused' });
    const expired = await client.waitFor((e) => e.type === 'approval_resolved');
    expect(expired).toMatchObject({ tool_call_id: 'call_late', decision: 'expired', by: 'timeout', turn_id: paused.turn_id });
    const end = await client.waitFor((e) => e.type === 'assistant_end' && e.turn_id === paused.turn_id && e.seq! > paused.seq!);
    expect(end).toMatchObject({ finish_reason: 'stop' });
    expect(outputFor(fake.requests.at(-1)!, 'call_late')).toContain('Nobody approved this call within 1 s');
    const rows = await api('GET', `/sessions/${id}/messages`);
    expect(rows.body.messages.find((m: { tool_call_id: string }) => m.tool_call_id === 'call_late')).toMatchObject({ status: 'denied', approval: { decision: 'expired', by: 'timeout' } });
    client.ws.terminate();
  });
});
