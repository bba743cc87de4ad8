import { SignJWT, UnsecuredJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiClient } from '../support/api.js';
import { TestClient } from '../chat/harness.js';
import { startTestServer, type TestServer } from '../support/server.js';

const SECRET = 'sessions-test-secret-at-least-32-chars!!';

async function register(server: TestServer, email: string) {
  const res = await apiClient(server.baseUrl)('POST', '/auth/register', { email, password: 'password123' });
  return { token: res.body.access_token as string, id: res.body.user.id as string };
}

/** Every session route, with a body where it needs one. */
function sessionRoutes(id: string): Array<[string, string, unknown?]> {
  return [
    ['GET', `/sessions/${id}`],
    ['PATCH', `/sessions/${id}`, { title: 'x' }],
    ['DELETE', `/sessions/${id}`],
    ['GET', `/sessions/${id}/messages`],
    ['POST', `/sessions/${id}/summarize`],
    ['GET', `/sessions/${id}/files`],
  ];
}

describe('sessions in jwt mode', () => {
  let server: TestServer;
  let alice: ReturnType<typeof apiClient>;
  let bob: ReturnType<typeof apiClient>;
  let aliceId: string;

  beforeAll(async () => {
    server = await startTestServer({ AUTH_MODE: 'jwt', JWT_SECRET: SECRET, AUTH_RATE_LIMIT_PER_MIN: '1000', ALLOW_REGISTRATION: 'true', MODELS: 'offline,gpt-4o,prod-gpt-4o-eu' });
    const a = await register(server, 'alice@example.com');
    aliceId = a.id;
    alice = apiClient(server.baseUrl, a.token);
    bob = apiClient(server.baseUrl, (await register(server, 'bob@example.com')).token);
  });
  afterAll(() => server.close());

  it('creates a session with a public id, the model window and the trigger, and lists it', async () => {
    const created = await alice('POST', '/sessions', { title: 'Plans', model: 'prod-gpt-4o-eu', reasoning_effort: 'low', mcp_config: [] });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      title: 'Plans',
      is_named: true,
      model: 'prod-gpt-4o-eu',
      reasoning_effort: 'low',
      mcp_config: [],
      pinned: false,
      message_count: 0,
      turn_count: 0,
      total_tokens: 0,
      max_tokens: 128_000,
      trigger_tokens: 102_400,
    });
    expect(created.body.session_id).toMatch(/^chat_[0-9a-f]{12}$/);
    const untitled = await alice('POST', '/sessions', {});
    // Without mcp_config a session gets every configured MCP server (none in this test server).
    expect(untitled.body).toMatchObject({ is_named: false, model: 'offline', max_tokens: 32_000, trigger_tokens: 25_600, mcp_config: [] });
    const got = await alice('GET', `/sessions/${created.body.session_id}`);
    expect(got.status).toBe(200);
    expect(got.body).toMatchObject({ session: { session_id: created.body.session_id }, messages: [], files: [], has_more: false, message_count: 0 });
  });

  it("answers 404 SES_4001 to user B on every route of user A's session, exactly like a missing one", async () => {
    const { body } = await alice('POST', '/sessions', { title: 'private' });
    for (const [method, path, payload] of sessionRoutes(body.session_id)) {
      const foreign = await bob(method, path, payload);
      const missing = await bob(method, path.replace(body.session_id, 'chat_000000000000'), payload);
      expect(foreign.status, `${method} ${path}`).toBe(404);
      expect(foreign.body.error).toMatchObject({ code: 'SES_4001', message: 'Session not found.' });
      expect(foreign.body.error.code).toBe(missing.body.error.code);
      expect(foreign.body.error.message).toBe(missing.body.error.message);
    }
    expect((await alice('GET', `/sessions/${body.session_id}`)).status).toBe(200);
    const list = await bob('GET', '/sessions');
    expect(list.body.sessions.map((s: { session_id: string }) => s.session_id)).not.toContain(body.session_id);
  });

  it('answers 401 on every session route without a token or with a bad, foreign-signed, alg:none or expired one', async () => {
    const { body } = await alice('POST', '/sessions', {});
    const now = Math.floor(Date.now() / 1000);
    const sign = (secret: string, iat: number, exp: number) =>
      new SignJWT({ email: 'alice@example.com', type: 'access' }).setProtectedHeader({ alg: 'HS256' }).setSubject(aliceId).setIssuedAt(iat).setExpirationTime(exp).sign(new TextEncoder().encode(secret));
    const badTokens = [
      await sign('a-completely-different-secret-of-32-chars', now, now + 900),
      new UnsecuredJWT({ email: 'alice@example.com', type: 'access' }).setSubject(aliceId).setIssuedAt().setExpirationTime('15m').encode(),
      await sign(SECRET, now - 3600, now - 60),
      (await sign(SECRET, now, now + 900)).slice(0, -3) + 'AAA',
    ];
    const routes: Array<[string, string, unknown?]> = [['GET', '/sessions'], ['POST', '/sessions', {}], ...sessionRoutes(body.session_id)];
    for (const [method, path, payload] of routes) {
      const none = await apiClient(server.baseUrl)(method, path, payload);
      expect(none.status, `${method} ${path}`).toBe(401);
      expect(none.body.error.code).toBe('AUTH_1001');
      for (const token of badTokens) {
        const res = await apiClient(server.baseUrl, token)(method, path, payload);
        expect(res.status, `${method} ${path}`).toBe(401);
      }
    }
  });

  it('refuses the WebSocket handshake without a valid token (4401/4403) and for another user\'s session (4404)', async () => {
    const { body } = await alice('POST', '/sessions', {});
    const url = `${server.wsUrl}/ws/chat/${body.session_id}`;
    const closeCode = async (u: string, protocols?: string[]) => (await (await TestClient.open(u, protocols)).closed).code;
    const now = Math.floor(Date.now() / 1000);
    const sign = (secret: string, iat: number, exp: number) =>
      new SignJWT({ email: 'alice@example.com', type: 'access' }).setProtectedHeader({ alg: 'HS256' }).setSubject(aliceId).setIssuedAt(iat).setExpirationTime(exp).sign(new TextEncoder().encode(secret));
    expect(await closeCode(url)).toBe(4401);
    for (const token of [
      await sign('a-completely-different-secret-of-32-chars', now, now + 900),
      new UnsecuredJWT({ email: 'alice@example.com', type: 'access' }).setSubject(aliceId).setIssuedAt().setExpirationTime('15m').encode(),
      await sign(SECRET, now - 3600, now - 60),
      (await sign(SECRET, now, now + 900)).slice(0, -3) + 'AAA',
    ]) {
      expect(await closeCode(`${url}?token=${token}`)).toBe(4403);
      expect(await closeCode(url, ['bearer', token])).toBe(4403);
    }
    const bobToken = (await apiClient(server.baseUrl)('POST', '/auth/login', { email: 'bob@example.com', password: 'password123' })).body.access_token;
    expect(await closeCode(url, ['bearer', bobToken])).toBe(4404);
    expect(await closeCode(`${server.wsUrl}/ws/chat/chat_000000000000`, ['bearer', bobToken])).toBe(4404);
    const aliceToken = (await apiClient(server.baseUrl)('POST', '/auth/login', { email: 'alice@example.com', password: 'password123' })).body.access_token;
    const ok = await TestClient.open(url, ['bearer', aliceToken]);
    ok.send({ type: 'ping' });
    expect((await ok.waitForType('pong')).type).toBe('pong');
    ok.ws.close();
  });

  it('rejects every invalid field with 422 VAL_2001 naming it', async () => {
    const { body: s } = await alice('POST', '/sessions', {});
    const cases: Array<[string, string, unknown, string]> = [
      ['POST', '/sessions', { title: 'x'.repeat(201) }, 'title'],
      ['POST', '/sessions', { title: '   ' }, 'title'],
      ['POST', '/sessions', { reasoning_effort: 'extreme' }, 'reasoning_effort'],
      ['POST', '/sessions', { model: 'gpt-9' }, 'model'],
      ['POST', '/sessions', { mcp_config: 'fetch' }, 'mcp_config'],
      ['POST', '/sessions', { mcp_config: ['no-such-server'] }, 'mcp_config'],
      ['POST', '/sessions', { surprise: true }, 'body'],
      ['PATCH', `/sessions/${s.session_id}`, { pinned: 'yes' }, 'pinned'],
      ['PATCH', `/sessions/${s.session_id}`, { title: 'x'.repeat(201) }, 'title'],
      ['PATCH', `/sessions/${s.session_id}`, { mcp_config: ['nope'] }, 'mcp_config'],
      ['GET', '/sessions?limit=0', undefined, 'limit'],
      ['GET', '/sessions?limit=101', undefined, 'limit'],
      ['GET', '/sessions?offset=-1', undefined, 'offset'],
      ['GET', `/sessions/${s.session_id}/messages?limit=500`, undefined, 'limit'],
      ['GET', `/sessions/${s.session_id}/messages?before_seq=abc`, undefined, 'before_seq'],
    ];
    for (const [method, path, payload, field] of cases) {
      const res = await alice(method, path, payload);
      expect(res.status, `${method} ${path} ${JSON.stringify(payload)}`).toBe(422);
      expect(res.body.error.code).toBe('VAL_2001');
      const fields = res.body.error.details.map((d: { field: string }) => d.field);
      expect(fields.some((f: string) => f === field || f.startsWith(`${field}.`)), `${fields} should name ${field}`).toBe(true);
    }
  });

  it('says which model and which MCP servers are unknown, and what is on offer', async () => {
    const model = await alice('POST', '/sessions', { model: 'gpt-9' });
    expect(model.body.error.message).toBe('Validation failed: model: unknown model "gpt-9"; choose one of offline, gpt-4o, prod-gpt-4o-eu');
    expect(model.body.error.details).toEqual([{ field: 'model', message: 'unknown model "gpt-9"; choose one of offline, gpt-4o, prod-gpt-4o-eu' }]);
    const mcp = await alice('POST', '/sessions', { mcp_config: ['no-such-server', 'nope'] });
    expect(mcp.body.error.message).toBe('Validation failed: mcp_config: unknown MCP server(s): no-such-server, nope');
  });

  it("shows a session's workspace files with its messages, input before output", async () => {
    const { body: s } = await alice('POST', '/sessions', {});
    await server.pulp.db.query(
      `INSERT INTO files (session_id, folder, filename, content_type, size_bytes, uploaded_at)
       VALUES ($1, 'output', 'chart.png', 'image/png', 2048, '2026-01-02T03:04:05Z'), ($1, 'input', 'notes.txt', NULL, 12, '2026-01-01T00:00:00Z')`,
      [s.id],
    );
    const { body } = await alice('GET', `/sessions/${s.session_id}`);
    expect(body.files).toEqual([
      { name: 'notes.txt', folder: 'input', path: 'input/notes.txt', size: 12, content_type: null, uploaded_at: '2026-01-01T00:00:00.000Z' },
      { name: 'chart.png', folder: 'output', path: 'output/chart.png', size: 2048, content_type: 'image/png', uploaded_at: '2026-01-02T03:04:05.000Z' },
    ]);
  });

  it('renames (naming the session and moving it up), pins, and deletes with its workspace', async () => {
    const { body: first } = await alice('POST', '/sessions', { title: 'first' });
    const { body: second } = await alice('POST', '/sessions', {});
    const renamed = await alice('PATCH', `/sessions/${second.session_id}`, { title: '  Renamed  ' });
    expect(renamed.body).toMatchObject({ title: 'Renamed', is_named: true });
    const pinned = await alice('PATCH', `/sessions/${first.session_id}`, { pinned: true });
    expect(pinned.body.pinned).toBe(true);
    expect(pinned.body.last_used_at).toBe(first.last_used_at);
    const list = await alice('GET', '/sessions?limit=100');
    const ids = list.body.sessions.map((s: { session_id: string }) => s.session_id);
    expect(ids[0]).toBe(first.session_id);
    expect(ids[1]).toBe(second.session_id);
    const { existsSync } = await import('node:fs');
    const dir = `${server.dataDir}/sessions/${second.session_id}`;
    expect(existsSync(`${dir}/input`) && existsSync(`${dir}/output`)).toBe(true);
    const del = await alice('DELETE', `/sessions/${second.session_id}`);
    expect(del.body).toEqual({ success: true, session_id: second.session_id });
    expect(existsSync(dir)).toBe(false);
    expect((await alice('GET', `/sessions/${second.session_id}`)).status).toBe(404);
  });
});

describe('paging', () => {
  let server: TestServer;
  let api: ReturnType<typeof apiClient>;
  beforeAll(async () => {
    server = await startTestServer();
    api = apiClient(server.baseUrl);
  });
  afterAll(() => server.close());

  it('pages 120 sessions as 50/50/20 with correct has_more', async () => {
    const user = await server.pulp.auth.authenticate(undefined);
    await server.pulp.db.query(
      `INSERT INTO sessions (user_id, session_id, model, last_used_at)
       SELECT $1, 'chat_' || lpad(to_hex(g), 12, '0'), 'offline', now() - g * interval '1 second' FROM generate_series(1, 120) g`,
      [user.id],
    );
    const pages = [];
    for (const offset of [0, 50, 100]) pages.push((await api('GET', `/sessions?offset=${offset}&limit=50`)).body);
    expect(pages.map((p) => p.sessions.length)).toEqual([50, 50, 20]);
    expect(pages.map((p) => p.pagination.has_more)).toEqual([true, true, false]);
    expect(pages.every((p) => p.pagination.total_count === 120)).toBe(true);
    const ids = pages.flatMap((p) => p.sessions.map((s: { session_id: string }) => s.session_id));
    expect(new Set(ids).size).toBe(120);
    expect(ids[0]).toBe('chat_000000000001');
  });

  it('keyset paging of messages has no duplicates or gaps when messages arrive between reads', async () => {
    const { body: s } = await api('POST', '/sessions', {});
    // A linear chat: each row follows the one before it, the newest is the active leaf.
    const insert = async (from: number, to: number) => {
      const db = server.pulp.db;
      await db.query(`INSERT INTO messages (session_id, seq, role, content) SELECT $1, g, 'user', 'm' || g FROM generate_series($2::int, $3::int) g`, [s.id, from, to]);
      await db.query(
        `UPDATE messages m SET parent_id = p.prev FROM (SELECT id, LAG(id) OVER (ORDER BY seq) AS prev FROM messages WHERE session_id = $1) p
         WHERE m.id = p.id AND p.prev IS NOT NULL`,
        [s.id],
      );
      await db.query('UPDATE sessions SET active_leaf_id = (SELECT id FROM messages WHERE session_id = $1 ORDER BY seq DESC LIMIT 1) WHERE id = $1', [s.id]);
    };
    await insert(1, 45);
    const seen: number[] = [];
    let page = (await api('GET', `/sessions/${s.session_id}/messages?before_seq=1000000&limit=20`)).body;
    await insert(46, 60); // new messages arrive while the client reads older pages
    const sizes: number[] = [];
    for (;;) {
      sizes.push(page.messages.length);
      seen.unshift(...page.messages.map((m: { seq: number }) => m.seq));
      if (!page.pagination.has_more) break;
      page = (await api('GET', `/sessions/${s.session_id}/messages?before_seq=${page.messages[0].seq}&limit=20`)).body;
    }
    expect(seen).toEqual(Array.from({ length: 45 }, (_, i) => i + 1));
    expect(sizes).toEqual([20, 20, 5]);
    // Exactly `limit` older messages left: this page is the last one.
    const exact = (await api('GET', `/sessions/${s.session_id}/messages?before_seq=21&limit=20`)).body;
    expect(exact.messages.map((m: { seq: number }) => m.seq)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect(exact.pagination.has_more).toBe(false);
    const firstPage = (await api('GET', `/sessions/${s.session_id}/messages?offset=0&limit=20`)).body;
    expect(firstPage.pagination).toEqual({ total_count: 60, offset: 0, limit: 20, has_more: true });
    const offsetPage = (await api('GET', `/sessions/${s.session_id}/messages?offset=50&limit=20`)).body;
    expect(offsetPage.messages.map((m: { seq: number }) => m.seq)).toEqual([51, 52, 53, 54, 55, 56, 57, 58, 59, 60]);
    expect(offsetPage.pagination).toEqual({ total_count: 60, offset: 50, limit: 20, has_more: false });
    expect(offsetPage.messages[0]).toEqual({
      id: expect.any(String), seq: 51, parent_id: expect.any(String), sibling_ids: [offsetPage.messages[0].id],
      role: 'user', content: 'm51', created_at: expect.any(String), partial: false,
      tool_call_id: null, tool_name: null, tool_arguments: null, tool_result: null, tool_success: null, status: null, reasoning: null,
    });
  });

  it('works without a token in none mode and serves /config', async () => {
    expect((await api('GET', '/sessions')).status).toBe(200);
    const config = (await api('GET', '/config')).body;
    expect(config).toMatchObject({ auth_mode: 'none', max_file_size: 52_428_800, models: [{ value: 'offline', isDefault: true, context_window: 32_000 }] });
    expect(config.reasoning_levels.map((l: { value: string }) => l.value)).toEqual(['none', 'low', 'medium', 'high']);
  });
});
