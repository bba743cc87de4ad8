import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startChatHarness, type ChatHarness, type TestClient } from './harness.js';

let h: ChatHarness;
const open: TestClient[] = [];

beforeAll(async () => {
  h = await startChatHarness({ env: { WS_MAX_CONNECTIONS: '10', WS_MAX_CONNECTIONS_PER_SESSION: '5', WS_MAX_CONNECTIONS_PER_USER: '2' } });
});
afterEach(() => {
  for (const c of open.splice(0)) c.ws.terminate();
});
afterAll(async () => {
  await h?.close();
});

async function connect(sessionId: string, token: 'alice' | 'bob'): Promise<TestClient> {
  const client = await h.connect(sessionId, { token });
  open.push(client);
  return client;
}

describe('connections per user', () => {
  it('closes a user\'s socket over their limit with 4429 and a reason, while another user still connects and chats', async () => {
    const [a1, a2, a3] = await Promise.all([h.createSession('alice'), h.createSession('alice'), h.createSession('alice')]);
    const first = await connect(a1.session_id, 'alice');
    await connect(a2.session_id, 'alice');
    first.send({ type: 'ping' });
    await first.waitForType('pong');

    const third = await connect(a3.session_id, 'alice');
    expect(await third.closed).toEqual({ code: 4429, reason: 'Too many connections for this user (2); close another tab' });

    const bobs = await connect((await h.createSession('bob')).session_id, 'bob');
    bobs.send({ type: 'ping' });
    expect(await bobs.waitForType('pong')).toMatchObject({ type: 'pong' });

    // Closing one of Alice's sockets gives her place back.
    first.ws.close();
    await first.closed;
    await expect.poll(() => h.chat.connectionCounts().connections).toBe(2);
    const again = await connect(a3.session_id, 'alice');
    again.send({ type: 'ping' });
    expect(await again.waitForType('pong')).toMatchObject({ type: 'pong' });
  });
});
