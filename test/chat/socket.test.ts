import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { listMessages } from '../../src/chat/message-store.js';
import { field, SESSION_LOOKUP_FAILS, startChatHarness, type ChatHarness, type TestClient } from './harness.js';

let h: ChatHarness;
const open: TestClient[] = [];

beforeAll(async () => {
  h = await startChatHarness({ env: { WS_MAX_CONNECTIONS_PER_SESSION: '2' } });
});
afterEach(() => {
  for (const c of open.splice(0)) c.ws.terminate();
});
afterAll(async () => {
  await h?.close();
});

async function connect(sessionId: string, options?: Parameters<ChatHarness['connect']>[1]): Promise<TestClient> {
  const client = await h.connect(sessionId, options);
  open.push(client);
  return client;
}

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve = () => undefined as void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

describe('handshake', () => {
  it('refuses a missing token with 4401 and a bad token with 4403', async () => {
    const session = await h.createSession();
    const anonymous = await connect(session.session_id, { token: null });
    expect((await anonymous.closed).code).toBe(4401);
    const forged = await connect(session.session_id, { token: 'mallory' });
    expect((await forged.closed).code).toBe(4403);
  });

  it("refuses another user's session and an unknown one with 4404", async () => {
    const bobs = await h.createSession('bob');
    expect((await (await connect(bobs.session_id)).closed).code).toBe(4404);
    expect((await (await connect('chat_000000000000')).closed).code).toBe(4404);
  });

  it('closes with 1011 "Internal error" when the user or session lookup itself fails, and tells nothing more', async () => {
    const session = await h.createSession();
    const userFails = await connect(session.session_id, { token: 'lookup-fails' });
    expect(await userFails.closed).toMatchObject({ code: 1011, reason: 'Internal error' });
    const sessionFails = await connect(SESSION_LOOKUP_FAILS);
    expect(await sessionFails.closed).toMatchObject({ code: 1011, reason: 'Internal error' });
    expect([...userFails.events, ...sessionFails.events]).toEqual([]);
  });

  it('gives every refusal a reason a browser can show', async () => {
    const session = await h.createSession();
    expect(await (await connect(session.session_id, { token: null })).closed).toEqual({ code: 4401, reason: 'Authentication required' });
    expect(await (await connect(session.session_id, { token: 'mallory' })).closed).toEqual({ code: 4403, reason: 'Invalid or expired token' });
    expect(await (await connect('chat_000000000000')).closed).toEqual({ code: 4404, reason: 'Session not found' });
    await connect(session.session_id);
    await connect(session.session_id);
    expect(await (await connect(session.session_id)).closed).toEqual({ code: 4503, reason: 'Connection limit reached' });
  });

  it('counts open sockets in /metrics as they open and close', async () => {
    const gauge = async () => {
      const text = await h.metrics.registry.metrics();
      return Number(/^pulp_websocket_connections (\d+)$/m.exec(text)?.[1]);
    };
    const session = await h.createSession();
    // Sockets of earlier tests close on the server a moment after the client lets go.
    await vi.waitFor(() => expect(h.chat.connectionCounts().connections).toBe(0));
    expect(await gauge()).toBe(0);
    const a = await connect(session.session_id);
    await connect(session.session_id);
    await vi.waitFor(() => expect(h.chat.connectionCounts().connections).toBe(2));
    expect(await gauge()).toBe(2);
    a.ws.close();
    await a.closed;
    await vi.waitFor(() => expect(h.chat.connectionCounts().connections).toBe(1));
    expect(await gauge()).toBe(1);
  });

  it('accepts the token as subprotocol (echoing bearer) or as query parameter', async () => {
    const session = await h.createSession();
    const viaProtocol = await connect(session.session_id);
    expect(viaProtocol.ws.protocol).toBe('bearer');
    const viaQuery = await connect(session.session_id, { via: 'query' });
    viaQuery.send({ type: 'ping' });
    expect(await viaQuery.waitForType('pong')).toMatchObject({ type: 'pong', session_id: session.session_id });
  });

  it('refuses a connection over the per-session limit with 4503 and counts connections for /health', async () => {
    const session = await h.createSession();
    await connect(session.session_id);
    await connect(session.session_id);
    expect(h.chat.connectionCounts()).toMatchObject({ connections: 2, sessions: 1 });
    const third = await connect(session.session_id);
    expect((await third.closed).code).toBe(4503);
  });
});

describe('bad frames', () => {
  it('answers non-JSON, unknown types and broken fields with WS_6002 and keeps the connection open', async () => {
    const session = await h.createSession();
    const client = await connect(session.session_id);
    const frames = [
      'not json',
      { type: 'dance' },
      { type: 'message', messages: [] },
      { type: 'message', messages: [{ content: '' }] },
      { type: 'message', messages: [{ content: 'x'.repeat(100_001) }] },
      { type: 'message', messages: Array.from({ length: 21 }, () => ({ content: 'hi' })) },
      { type: 'message', messages: [{ content: 'hi' }], reasoning_effort: 'extreme' },
    ];
    for (const frame of frames) client.send(frame);
    client.send({ type: 'ping' });
    await client.waitForType('pong');
    const errors = client.events.filter((e) => e.type === 'error');
    expect(errors).toHaveLength(frames.length);
    for (const e of errors) expect(e).toMatchObject({ code: 'WS_6002', recoverable: true, session_id: session.session_id });
    expect(client.ws.readyState).toBe(client.ws.OPEN);
    expect(await listMessages(h.database.db, session.id)).toEqual([]);
  });

  it("closes with 4429 after more than 20 bad frames in a minute, without disturbing a neighbour's turn", async () => {
    const neighbourSession = await h.createSession();
    const neighbour = await connect(neighbourSession.session_id);
    const gate = deferred();
    h.fake.enqueue({ steps: [{ type: 'text', deltas: ['Still '] }, { type: 'wait', until: gate.promise }, { type: 'text', deltas: ['here.'] }] });
    neighbour.message('keep going');
    await neighbour.waitForType('assistant_delta');

    const session = await h.createSession();
    const spammer = await connect(session.session_id);
    for (let i = 0; i < 25; i++) spammer.send('{oops');
    expect((await spammer.closed).code).toBe(4429);
    expect(spammer.events.filter((e) => e.type === 'error')).toHaveLength(20);

    const huge = await connect(session.session_id);
    huge.send(JSON.stringify({ type: 'message', messages: [{ content: 'x'.repeat(2 * 1024 * 1024) }] }));
    expect((await huge.closed).code).toBe(1009);

    gate.resolve();
    const events = await neighbour.turn();
    expect(field(events.at(-1), 'finish_reason')).toBe('stop');
    expect((await listMessages(h.database.db, neighbourSession.id)).at(-1)?.content).toBe('Still here.');
  });
});

describe('several connections on one session', () => {
  it('both connections receive every event, and a message from the second interrupts the first one’s turn', async () => {
    const session = await h.createSession();
    const a = await connect(session.session_id);
    const b = await connect(session.session_id);
    h.fake.enqueue(
      { steps: [{ type: 'text', deltas: ['Long answer '] }, { type: 'hang' }] },
      { steps: [{ type: 'text', deltas: ['Short answer.'] }] },
    );
    a.message('first');
    await b.waitForType('assistant_delta');
    const abort = h.fake.nextAbort();
    b.message('second');
    await abort;
    const first = await a.turn();
    const second = await a.turn(a.events.indexOf(first.at(-1)!) + 1);
    await b.waitFor((e) => e.type === 'assistant_end' && e.turn_id === second[0]!.turn_id);

    expect(field(first.at(-1), 'finish_reason')).toBe('interrupted');
    expect(first.map((e) => e.type)).toContain('stream_interrupted');
    expect(field(second.at(-1), 'finish_reason')).toBe('stop');
    // The first turn ended (partial saved) before the second began.
    expect(a.events.indexOf(first.at(-1)!)).toBeLessThan(a.events.indexOf(second[0]!));
    expect(b.events).toEqual(a.events);

    const messages = await listMessages(h.database.db, session.id);
    expect(messages.map((m) => [m.role, m.content, m.partial])).toEqual([
      ['user', 'first', false],
      ['assistant', 'Long answer ', true],
      ['user', 'second', false],
      ['assistant', 'Short answer.', false],
    ]);
  });

  it('an interrupt when no turn runs does nothing', async () => {
    const session = await h.createSession();
    const client = await connect(session.session_id);
    client.send({ type: 'interrupt' });
    client.send({ type: 'ping' });
    await client.waitForType('pong');
    expect(client.events.map((e) => e.type)).toEqual(['pong']);
  });

  it('a turn whose clients all disconnect runs to its end and is saved', async () => {
    const session = await h.createSession();
    const client = await connect(session.session_id);
    const gate = deferred();
    h.fake.enqueue({ steps: [{ type: 'text', deltas: ['Before '] }, { type: 'wait', until: gate.promise }, { type: 'text', deltas: ['after.'] }] });
    client.message('go');
    await client.waitForType('assistant_delta');
    client.ws.terminate();
    await client.closed;
    gate.resolve();
    await h.chat.whenIdle(session.id, 10_000);
    const messages = await listMessages(h.database.db, session.id);
    expect(messages.map((m) => [m.role, m.content, m.partial])).toEqual([
      ['user', 'go', false],
      ['assistant', 'Before after.', false],
    ]);
  });
});

describe('shutdown', () => {
  it('sends server_shutdown, saves the partial of a running turn, closes with 1001 and refuses new sockets', async () => {
    const session = await h.createSession();
    const client = await connect(session.session_id);
    h.fake.enqueue({ steps: [{ type: 'text', deltas: ['Half '] }, { type: 'hang' }] });
    client.message('work');
    await client.waitForType('assistant_delta');
    await h.chat.shutdown();
    expect((await client.closed).code).toBe(1001);
    const types = client.events.map((e) => e.type);
    expect(types).toContain('server_shutdown');
    expect(types.at(-1)).toBe('assistant_end');
    expect(field(client.events.at(-1), 'finish_reason')).toBe('interrupted');
    const messages = await listMessages(h.database.db, session.id);
    expect(messages.at(-1)).toMatchObject({ role: 'assistant', content: 'Half ', partial: true });
    expect((await (await connect(session.session_id)).closed).code).toBe(4503);
  });
});
