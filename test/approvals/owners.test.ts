/**
 * Approvals belong to the session's owner: another user gets 404 for the list and for a decision
 * (the call stays pending), and the decision names who made it. jwt mode, two users.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestClient } from '../chat/harness.js';
import { apiClient } from '../support/api.js';
import { startFakeOpenAI, type FakeOpenAI } from '../support/fake-openai.js';
import { startTestServer, type TestServer } from '../support/server.js';

const SECRET = 'approvals-test-secret-at-least-32-chars!';

describe('approvals and their owners', () => {
  let fake: FakeOpenAI;
  let server: TestServer;

  async function register(email: string): Promise<string> {
    const res = await apiClient(server.baseUrl)('POST', '/auth/register', { email, password: 'password123' });
    return res.body.access_token as string;
  }

  beforeAll(async () => {
    fake = await startFakeOpenAI();
    fake.setHandler((request) => {
      const input = (request.body.input ?? []) as Array<{ type?: string }>;
      if (input.some((i) => i.type === 'function_call_output')) return { steps: [{ type: 'text', deltas: ['ok'] }] };
      return { steps: [{ type: 'tool_call', name: 'generate_document', arguments: { filename: 'a.md', content: 'a' }, callId: 'call_owned' }] };
    });
    server = await startTestServer({
      AUTH_MODE: 'jwt',
      JWT_SECRET: SECRET,
      AUTH_RATE_LIMIT_PER_MIN: '1000',
      ALLOW_REGISTRATION: 'true',
      OPENAI_BASE_URL: fake.baseUrl,
      OPENAI_API_KEY: 'test',
      LLM_PROVIDER: 'openai',
      OPENAI_API_MODE: 'responses',
      DEFAULT_MODEL: 'gpt-4o-mini',
      TOOL_APPROVAL: 'ask',
    });
  });

  afterAll(async () => {
    await server?.close();
    await fake?.close();
  });

  it("another user's session is 404 for the list and for a decision, and the call still waits for its owner", async () => {
    const aliceToken = await register('alice@example.com');
    const bobToken = await register('bob@example.com');
    const alice = apiClient(server.baseUrl, aliceToken);
    const bob = apiClient(server.baseUrl, bobToken);
    const id = (await alice('POST', '/sessions', { title: 'Mine' })).body.session_id as string;
    const client = await TestClient.open(`${server.wsUrl}/ws/chat/${id}`, ['bearer', aliceToken]);
    client.message('write a.md');
    expect(await client.waitForType('assistant_end')).toMatchObject({ finish_reason: 'paused' });

    expect((await bob('GET', `/sessions/${id}/approvals`)).status).toBe(404);
    const refused = await bob('POST', `/sessions/${id}/approvals/call_owned`, { decision: 'approve' });
    expect(refused.status).toBe(404);
    expect(refused.body.error.code).toBe('SES_4001');
    const pending = await alice('GET', `/sessions/${id}/approvals`);
    expect(pending.body.approvals).toEqual([expect.objectContaining({ tool_call_id: 'call_owned', status: 'pending' })]);
    const list = await alice('GET', '/sessions');
    expect(list.body.sessions.find((s: { session_id: string }) => s.session_id === id)).toMatchObject({ pending_approvals: 1 });

    const decided = await alice('POST', `/sessions/${id}/approvals/call_owned`, { decision: 'deny', reason: 'no' });
    expect(decided.body).toMatchObject({ status: 'denied', decided_by: 'alice@example.com', reason: 'no' });
    expect(await client.waitFor((e) => e.type === 'approval_resolved')).toMatchObject({ by: 'alice@example.com', decision: 'denied' });
    client.ws.terminate();
  });
});
