/**
 * Per-user fair shares on one server (jwt mode): messages a minute, turns running at once, REST
 * writes a minute. A refusal says which limit and when to retry, and starts or stores nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.js';
import { apiClient } from '../support/api.js';
import { ended, openChat, type ChatClient, type Event } from '../support/chat-client.js';
import { startFakeOpenAI, type FakeOpenAI } from '../support/fake-openai.js';
import { fakeModelEnv } from '../support/pulp-process.js';
import { startTestServer, type TestServer } from '../support/server.js';

const SECRET = 'user-limits-test-secret-at-least-32-chars';
/** A message containing this is answered only once `release()` is called. */
const HOLD = 'HOLD-THIS-TURN';

describe('per-user limits', () => {
  let fake: FakeOpenAI;
  let server: TestServer;
  let release: () => void = () => undefined;
  const clients: ChatClient[] = [];
  let accounts = 0;

  const account = async () => {
    accounts += 1;
    const pair = await server.pulp.auth.register({ email: `user${accounts}@example.com`, password: 'password123' });
    return { id: pair.user.id, api: apiClient(server.baseUrl, pair.access_token), token: pair.access_token };
  };
  const chat = async (token: string, sessionId: string) => {
    const c = await openChat(server.baseUrl, sessionId, token);
    clients.push(c);
    return c;
  };
  const errors = (events: Event[]) => events.filter((e) => e.type === 'error');
  const message = (content: string) => ({ type: 'message', messages: [{ content }] });

  beforeAll(async () => {
    fake = await startFakeOpenAI();
    let held = new Promise<void>((resolve) => (release = resolve));
    fake.setHandler((req) => {
      const last = JSON.stringify((req.body.messages as unknown[] | undefined)?.at(-1) ?? '');
      if (!last.includes(HOLD)) return undefined;
      const wait = held;
      held = new Promise<void>((resolve) => (release = resolve));
      return { steps: [{ type: 'wait', until: wait }, { type: 'text', deltas: ['released'] }] };
    });
    server = await startTestServer({
      AUTH_MODE: 'jwt',
      JWT_SECRET: SECRET,
      ALLOW_REGISTRATION: 'true',
      USER_MESSAGES_PER_MIN: '3',
      USER_MAX_CONCURRENT_TURNS: '1',
      USER_WRITES_PER_MIN: '4',
      ...fakeModelEnv(fake.baseUrl),
    });
  });

  afterAll(async () => {
    release();
    for (const c of clients) c.close();
    await server?.close();
    await fake?.close();
  });

  it('refuses a fourth message in a minute with QUOTA_3201 and when to retry, and stores nothing of it', async () => {
    const user = await account();
    const sessionId = (await user.api('POST', '/sessions', { title: 'rate' })).body.session_id as string;
    const c = await chat(user.token, sessionId);
    c.send(message('one'));
    await c.until(ended());
    c.send(message('two'));
    await c.until((events) => events.filter((e) => e.type === 'assistant_end').length === 2);
    c.send(message('three'));
    await c.until((events) => events.filter((e) => e.type === 'assistant_end').length === 3);
    c.send(message('four'));
    await c.until((events) => errors(events).length === 1);
    const [refusal] = errors(c.events);
    expect(refusal).toMatchObject({ code: 'QUOTA_3201', recoverable: true, session_id: sessionId });
    expect(refusal?.turn_id).toBeUndefined();
    expect(refusal?.retry_after).toBeGreaterThanOrEqual(1);
    expect(refusal?.retry_after).toBeLessThanOrEqual(60);
    expect(refusal?.message).toBe(`Too many messages: the limit is 3 messages a minute. Your message was not sent; send it again in ${String(refusal?.retry_after)} s.`);
    // Nothing of the refused message was stored or sent to the model.
    const history = await user.api('GET', `/sessions/${sessionId}/messages`);
    expect(JSON.stringify(history.body)).toContain('three');
    expect(JSON.stringify(history.body)).not.toContain('four');
    expect(fake.requests.some((r) => JSON.stringify(r.body).includes('four'))).toBe(false);
    expect(c.events.filter((e) => e.type === 'assistant_start')).toHaveLength(3);
    // Another user has a count of their own.
    const other = await account();
    const otherSession = (await other.api('POST', '/sessions', { title: 'other' })).body.session_id as string;
    const o = await chat(other.token, otherSession);
    o.send(message('hello'));
    await o.until(ended());
    expect(errors(o.events)).toEqual([]);
  });

  it('refuses a turn in a second session while one runs (QUOTA_3202); a message in the running session replaces it', async () => {
    const user = await account();
    const a = (await user.api('POST', '/sessions', { title: 'a' })).body.session_id as string;
    const b = (await user.api('POST', '/sessions', { title: 'b' })).body.session_id as string;
    const ca = await chat(user.token, a);
    const cb = await chat(user.token, b);
    ca.send(message(`first ${HOLD}`));
    await ca.until((events) => events.some((e) => e.type === 'assistant_start'));

    cb.send(message('in b'));
    await cb.until((events) => errors(events).length === 1);
    expect(errors(cb.events)[0]).toMatchObject({ code: 'QUOTA_3202', recoverable: true });
    expect(errors(cb.events)[0]?.message).toMatch(/^You already have 1 answer running in other chats \(the limit is 1\)\. Your message was not sent/);
    expect(cb.events.some((e) => e.type === 'assistant_start')).toBe(false);

    // A new message in the running session interrupts that turn instead of adding one.
    ca.send(message('second in a'));
    await ca.until((events) => events.filter((e) => e.type === 'assistant_end').length === 2);
    expect(errors(ca.events)).toEqual([]);
    // With nothing running, the other session may start its turn.
    cb.send(message('in b again'));
    await cb.until(ended());
    expect(errors(cb.events)).toHaveLength(1);
  });

  it('refuses REST writes past the limit with 429 QUOTA_3203 and Retry-After; reads and other users go on', async () => {
    const user = await account();
    const created: number[] = [];
    for (let i = 0; i < 4; i++) created.push((await user.api('POST', '/sessions', { title: `s${i}` })).status);
    expect(created).toEqual([201, 201, 201, 201]);
    const refused = await user.api('POST', '/sessions', { title: 'one too many' });
    expect(refused.status).toBe(429);
    expect(refused.body.error.code).toBe('QUOTA_3203');
    const retryAfter = Number(refused.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(refused.body.error.retry_after).toBe(retryAfter);
    expect(refused.body.error.message).toBe(`Too many changes: the limit is 4 a minute. Nothing was changed; try again in ${retryAfter} s.`);
    // Other writes (a PATCH, a file upload) are refused too; nothing was made.
    const list = await user.api('GET', '/sessions');
    expect(list.status).toBe(200);
    expect(list.body.sessions.map((s: { title: string }) => s.title)).not.toContain('one too many');
    const someSession = list.body.sessions[0].session_id as string;
    expect((await user.api('PATCH', `/sessions/${someSession}`, { title: 'renamed' })).status).toBe(429);
    const form = new FormData();
    form.append('file', new Blob(['hello']), 'hello.txt');
    const upload = await fetch(`${server.baseUrl}/api/v1/sessions/${someSession}/files`, {
      method: 'POST',
      headers: { authorization: `Bearer ${user.token}` },
      body: form,
    });
    expect(upload.status).toBe(429);
    expect(((await upload.json()) as { error: { code: string } }).error.code).toBe('QUOTA_3203');
    const other = await account();
    expect((await other.api('POST', '/sessions', { title: 'mine' })).status).toBe(201);
  });

  it('counts refusals per limit in /metrics', async () => {
    const text = await (await fetch(`${server.baseUrl}/metrics`)).text();
    expect(text).toMatch(/pulp_limit_refusals_total\{limit="user_messages"\} 1\n/);
    expect(text).toMatch(/pulp_limit_refusals_total\{limit="user_turns"\} 1\n/);
    expect(text).toMatch(/pulp_limit_refusals_total\{limit="user_writes"\} 3\n/);
  });
});

describe('per-user limit settings', () => {
  it('are on by default with AUTH_MODE=jwt, off in none mode, and can be set or turned off', () => {
    const jwt = { AUTH_MODE: 'jwt', JWT_SECRET: SECRET };
    expect(loadConfig(jwt).userLimits).toEqual({ maxConcurrentTurns: 3, messagesPerMin: 30, writesPerMin: 120 });
    expect(loadConfig({}).userLimits).toEqual({ maxConcurrentTurns: 0, messagesPerMin: 0, writesPerMin: 0 });
    expect(loadConfig({ USER_MESSAGES_PER_MIN: '5' }).userLimits).toEqual({ maxConcurrentTurns: 0, messagesPerMin: 5, writesPerMin: 0 });
    expect(loadConfig({ ...jwt, USER_MAX_CONCURRENT_TURNS: '0', USER_WRITES_PER_MIN: '7' }).userLimits).toEqual({
      maxConcurrentTurns: 0,
      messagesPerMin: 30,
      writesPerMin: 7,
    });
    expect(() => loadConfig({ USER_WRITES_PER_MIN: '-1' })).toThrow(/USER_WRITES_PER_MIN/);
    expect(() => loadConfig({ METRICS_TOKEN: 'short' })).toThrow(/METRICS_TOKEN must be at least 16 characters/);
  });
});
