/**
 * Limits and account changes across two Pulp servers in this process on one PostgreSQL database:
 * a limit counts the attempts of both servers, and disabling a user on one server closes their
 * sockets on both and refuses their token and API key everywhere.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiClient } from '../support/api.js';
import { openChat, type ChatClient } from '../support/chat-client.js';
import { createMigratedPostgresDatabase, sharedPostgresDatabase, TEST_DATABASE_URL, type TestDatabase } from '../support/database.js';
import { startFakeOpenAI, type FakeOpenAI } from '../support/fake-openai.js';
import { fakeModelEnv } from '../support/pulp-process.js';
import { startTestServer, type TestServer } from '../support/server.js';

if (!TEST_DATABASE_URL) console.log('test/limits/cluster: skipped — two servers sharing limits need PostgreSQL (set TEST_DATABASE_URL)');

const SECRET = 'limits-cluster-test-secret-at-least-32-chars';
const AUTH_PER_MIN = 4;
/** A message containing this is answered only after the test ends. */
const HOLD = 'HOLD-THIS-TURN';

describe.skipIf(!TEST_DATABASE_URL)('limits and disabling across two servers on one PostgreSQL', () => {
  let fake: FakeOpenAI;
  let url: string;
  let drop: () => Promise<void>;
  let s1: TestServer;
  let s2: TestServer;
  const clients: ChatClient[] = [];

  const database = (): TestDatabase => sharedPostgresDatabase(url);

  /** An account made without the HTTP routes, so it uses none of the login attempts. */
  const account = async (email: string) => {
    const pair = await s1.pulp.auth.register({ email, password: 'password123' });
    return { id: pair.user.id, token: pair.access_token };
  };
  const chat = async (server: TestServer, sessionId: string, token: string) => {
    const c = await openChat(server.baseUrl, sessionId, token);
    clients.push(c);
    return c;
  };
  const closeCode = (c: ChatClient) =>
    new Promise<{ code: number; reason: string }>((resolve) => c.ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));

  beforeAll(async () => {
    fake = await startFakeOpenAI();
    const never = new Promise<void>(() => undefined);
    fake.setHandler((req) =>
      JSON.stringify((req.body.messages as unknown[] | undefined)?.at(-1) ?? '').includes(HOLD) ? { steps: [{ type: 'wait', until: never }] } : undefined,
    );
    ({ url, drop } = await createMigratedPostgresDatabase());
    const env = {
      DATABASE_URL: url,
      AUTH_MODE: 'jwt',
      JWT_SECRET: SECRET,
      ALLOW_REGISTRATION: 'true',
      AUTH_RATE_LIMIT_PER_MIN: String(AUTH_PER_MIN),
      USER_MAX_CONCURRENT_TURNS: '1',
      USER_MESSAGES_PER_MIN: '3',
      ...fakeModelEnv(fake.baseUrl),
    };
    s1 = await startTestServer(env, { database: database() });
    s2 = await startTestServer({ ...env, DATA_DIR: s1.dataDir }, { database: database() });
  }, 60_000);

  afterAll(async () => {
    for (const c of clients) c.close();
    await s1?.close();
    await s2?.close();
    await drop?.();
    await fake?.close();
  });

  it('counts login attempts of both servers against one limit, and the refusal says when to retry', async () => {
    const attempt = (server: TestServer) => apiClient(server.baseUrl)('POST', '/auth/login', { email: 'nobody@example.com', password: 'whatever1' });
    const statuses: number[] = [];
    for (let i = 0; i < AUTH_PER_MIN / 2; i++) {
      statuses.push((await attempt(s1)).status, (await attempt(s2)).status);
    }
    expect(statuses).toEqual(Array(AUTH_PER_MIN).fill(401));
    for (const server of [s1, s2]) {
      const refused = await attempt(server);
      expect(refused.status).toBe(429);
      expect(refused.body.error.code).toBe('AUTH_1007');
      expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    }
    const { rows } = await s1.database.db.query<{ points: number }>(`SELECT points FROM rate_limits WHERE key LIKE 'auth_ip:%'`);
    expect(rows).toEqual([{ points: AUTH_PER_MIN + 2 }]);
  });

  it('disabling a user on one server closes their sockets on both and refuses their token and API key on both', async () => {
    const admin = await account('admin@example.com');
    const victim = await account('victim@example.com');
    const victimApi = apiClient(s2.baseUrl, victim.token);
    const key = await victimApi('POST', '/api-keys', { name: 'script' });
    expect(key.status).toBe(201);
    const sessionA = (await victimApi('POST', '/sessions', { title: 'a' })).body.session_id as string;
    const sessionB = (await victimApi('POST', '/sessions', { title: 'b' })).body.session_id as string;
    const onS1 = await chat(s1, sessionA, victim.token);
    const onS2 = await chat(s2, sessionB, victim.token);
    const alsoOnS2 = await chat(s2, sessionA, key.body.key as string);
    // Another user's socket on the same server stays open.
    const bystander = await account('bystander@example.com');
    const bystanderSession = (await apiClient(s2.baseUrl, bystander.token)('POST', '/sessions', { title: 'c' })).body.session_id as string;
    const unaffected = await chat(s2, bystanderSession, bystander.token);
    const closed = [onS1, onS2, alsoOnS2].map(closeCode);

    const patched = await apiClient(s1.baseUrl, admin.token)('PATCH', `/admin/users/${victim.id}`, { disabled: true });
    expect(patched.status).toBe(200);
    expect(await Promise.all(closed)).toEqual(Array(3).fill({ code: 4403, reason: 'Account disabled' }));

    for (const server of [s1, s2]) {
      for (const credential of [victim.token, key.body.key as string]) {
        const refused = await apiClient(server.baseUrl, credential)('GET', '/sessions');
        expect(refused.status).toBe(403);
        expect(refused.body.error.code).toBe('AUTH_1005');
      }
    }
    unaffected.send({ type: 'ping' });
    await unaffected.until((events) => events.some((e) => e.type === 'pong'));
  });

  it('deleting a user on one server closes their sockets on the other', async () => {
    const admin = await account('admin2@example.com');
    await s1.database.db.query(`UPDATE users SET role = 'admin' WHERE id = $1`, [admin.id]);
    const doomed = await account('doomed@example.com');
    const session = (await apiClient(s1.baseUrl, doomed.token)('POST', '/sessions', { title: 'd' })).body.session_id as string;
    const onS2 = await chat(s2, session, doomed.token);
    const closed = closeCode(onS2);
    expect((await apiClient(s1.baseUrl, admin.token)('DELETE', `/admin/users/${doomed.id}`)).status).toBe(204);
    expect(await closed).toEqual({ code: 4403, reason: 'Account disabled' });
    expect((await apiClient(s2.baseUrl, doomed.token)('GET', '/sessions')).status).toBe(401);
  });

  it('counts the messages a user sends through both servers against one limit', async () => {
    const user = await account('chatty@example.com');
    const sessionId = (await apiClient(s1.baseUrl, user.token)('POST', '/sessions', { title: 'rate' })).body.session_id as string;
    const on1 = await chat(s1, sessionId, user.token);
    const on2 = await chat(s2, sessionId, user.token);
    const ends = (c: ChatClient, n: number) => c.until((events) => events.filter((e) => e.type === 'assistant_end').length === n);
    for (const [i, c] of [on1, on2, on1].entries()) {
      c.send({ type: 'message', messages: [{ content: `message ${i}` }] });
      await ends(c, i + 1);
    }
    on2.send({ type: 'message', messages: [{ content: 'one too many' }] });
    await on2.until((events) => events.some((e) => e.type === 'error'));
    expect(on2.events.find((e) => e.type === 'error')).toMatchObject({ code: 'QUOTA_3201', recoverable: true, retry_after: expect.any(Number) });
  });

  it('refuses a second running turn of a user on the other server (QUOTA_3202)', async () => {
    const user = await account('busy@example.com');
    const api = apiClient(s1.baseUrl, user.token);
    const a = (await api('POST', '/sessions', { title: 'a' })).body.session_id as string;
    const b = (await api('POST', '/sessions', { title: 'b' })).body.session_id as string;
    const onA = await chat(s1, a, user.token);
    const onB = await chat(s2, b, user.token);
    onA.send({ type: 'message', messages: [{ content: `long ${HOLD}` }] });
    await onA.until((events) => events.some((e) => e.type === 'assistant_start'));
    onB.send({ type: 'message', messages: [{ content: 'meanwhile' }] });
    await onB.until((events) => events.some((e) => e.type === 'error'));
    expect(onB.events.find((e) => e.type === 'error')).toMatchObject({ code: 'QUOTA_3202', recoverable: true });
    expect(onB.events.some((e) => e.type === 'assistant_start')).toBe(false);
  });
});
