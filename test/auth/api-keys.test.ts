/** API keys against a real server: shown once, accepted on REST and on the chat socket, revoked at once. */
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiClient } from '../support/api.js';
import { startTestServer, type TestServer } from '../support/server.js';

const SECRET = 'api-key-test-secret-that-is-at-least-32-chars';

/** Opens the chat socket with `token`; resolves the close code, or runs one turn and resolves its finish reason. */
function chat(server: TestServer, sessionId: string, token: string): Promise<{ closed: number } | { finish: string }> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(`${server.wsUrl}/ws/chat/${sessionId}`, ['bearer', token]);
    socket.on('close', (code) => resolve({ closed: code }));
    socket.on('error', reject);
    socket.on('open', () => socket.send(JSON.stringify({ type: 'message', messages: [{ content: 'Hello from a script' }] })));
    socket.on('message', (data: Buffer) => {
      const event = JSON.parse(data.toString('utf8')) as { type: string; finish_reason?: string };
      if (event.type === 'assistant_end') {
        resolve({ finish: event.finish_reason ?? '' });
        socket.close();
      }
    });
  });
}

describe('API keys', () => {
  let server: TestServer;
  let admin: ReturnType<typeof apiClient>;
  const register = async (email: string) => {
    const res = await apiClient(server.baseUrl)('POST', '/auth/register', { email, password: 'password123' });
    return { id: res.body.user.id as string, api: apiClient(server.baseUrl, res.body.access_token) };
  };

  beforeAll(async () => {
    server = await startTestServer({ AUTH_MODE: 'jwt', JWT_SECRET: SECRET, AUTH_RATE_LIMIT_PER_MIN: '1000', ALLOW_REGISTRATION: 'true' });
    admin = (await register('admin@example.com')).api;
  });
  afterAll(() => server.close());

  it('creates a key shown once, lists it without the secret, and works on REST and on the chat socket', async () => {
    const { api } = await register('script@example.com');
    const created = await api('POST', '/api-keys', { name: ' nightly export ' });
    expect(created.status).toBe(201);
    const key = created.body.key as string;
    expect(key).toMatch(/^pulp_[A-Za-z0-9_-]{43}$/);
    expect(created.body).toMatchObject({ name: 'nightly export', prefix: key.slice(0, 12), last_used_at: null, expires_at: null });

    const withKey = apiClient(server.baseUrl, key);
    expect((await withKey('GET', '/auth/me')).body.email).toBe('script@example.com');
    const session = await withKey('POST', '/sessions', {});
    expect(session.status).toBe(201);
    expect(await chat(server, session.body.session_id, key)).toEqual({ finish: 'stop' });
    expect((await withKey('GET', `/sessions/${session.body.session_id}/messages`)).body.messages).toHaveLength(2);

    const list = await api('GET', '/api-keys');
    expect(list.body.api_keys).toEqual([
      { id: created.body.id, name: 'nightly export', prefix: key.slice(0, 12), created_at: expect.any(String), last_used_at: expect.any(String), expires_at: null },
    ]);
    expect(JSON.stringify(list.body)).not.toContain(key.slice(12));
    const stored = await server.pulp.db.query<{ key_hash: string }>('SELECT key_hash FROM api_keys WHERE id = $1', [created.body.id]);
    expect(stored.rows[0]!.key_hash).not.toContain(key.slice(5));
  });

  it('revokes at once; another user cannot see or revoke the key', async () => {
    const owner = await register('owner@example.com');
    const other = await register('other@example.com');
    const created = await owner.api('POST', '/api-keys', { name: 'ci' });
    const withKey = apiClient(server.baseUrl, created.body.key);
    expect((await withKey('GET', '/sessions')).status).toBe(200);
    expect((await other.api('GET', '/api-keys')).body.api_keys).toEqual([]);
    expect((await other.api('DELETE', `/api-keys/${created.body.id}`)).status).toBe(404);
    expect((await withKey('GET', '/sessions')).status).toBe(200);
    expect((await owner.api('DELETE', `/api-keys/${created.body.id}`)).status).toBe(204);
    const refused = await withKey('GET', '/sessions');
    expect(refused.status).toBe(401);
    expect(refused.body.error.code).toBe('AUTH_1002');
    const session = await owner.api('POST', '/sessions', {});
    expect(await chat(server, session.body.session_id, created.body.key)).toEqual({ closed: 4403 });
    expect((await owner.api('DELETE', `/api-keys/${created.body.id}`)).status).toBe(404);
  });

  it("stops working when the owner is disabled or deleted", async () => {
    const owner = await register('leaver@example.com');
    const key = (await owner.api('POST', '/api-keys', { name: 'k' })).body.key as string;
    const withKey = apiClient(server.baseUrl, key);
    expect((await withKey('GET', '/sessions')).status).toBe(200);
    await admin('PATCH', `/admin/users/${owner.id}`, { disabled: true });
    const refused = await withKey('GET', '/sessions');
    expect(refused.status).toBe(403);
    expect(refused.body.error.code).toBe('AUTH_1005');
    await admin('DELETE', `/admin/users/${owner.id}`);
    expect((await withKey('GET', '/sessions')).status).toBe(401);
  });

  it('refuses an expired key, and checks names, expiry, the key format and the limit of 50', async () => {
    const owner = await register('limits@example.com');
    const soon = await owner.api('POST', '/api-keys', { name: 'short', expires_at: new Date(Date.now() + 60_000).toISOString() });
    expect(soon.status).toBe(201);
    await server.pulp.db.query("UPDATE api_keys SET expires_at = now() - interval '1 second' WHERE id = $1", [soon.body.id]);
    const expired = await apiClient(server.baseUrl, soon.body.key)('GET', '/sessions');
    expect(expired.status).toBe(401);
    expect(expired.body.error).toMatchObject({ code: 'AUTH_1003', message: 'The API key has expired.' });

    for (const body of [{}, { name: '' }, { name: 'x'.repeat(101) }, { name: 'a', expires_at: 'tomorrow' }, { name: 'a', extra: true }, { name: 'a', expires_at: '2001-01-01T00:00:00Z' }]) {
      const res = await owner.api('POST', '/api-keys', body);
      expect(res.status, JSON.stringify(body)).toBe(422);
      expect(res.body.error.code).toBe('VAL_2001');
    }
    for (const bad of ['pulp_short', `pulp_${'a'.repeat(43)}`, `pulp_${'a'.repeat(5000)}`]) {
      expect((await apiClient(server.baseUrl, bad)('GET', '/sessions')).body.error.code).toBe('AUTH_1002');
    }
    expect((await owner.api('DELETE', '/api-keys/not-a-uuid')).status).toBe(404);

    for (let i = (await owner.api('GET', '/api-keys')).body.api_keys.length; i < 50; i++) {
      expect((await owner.api('POST', '/api-keys', { name: `k${i}` })).status).toBe(201);
    }
    const over = await owner.api('POST', '/api-keys', { name: 'one too many' });
    expect(over.status).toBe(409);
    expect(over.body.error.code).toBe('RES_3006');
  });

  it('a key cannot manage keys, and the routes need a user', async () => {
    const owner = await register('nokeys@example.com');
    const key = (await owner.api('POST', '/api-keys', { name: 'k' })).body.key as string;
    const res = await apiClient(server.baseUrl, key)('POST', '/api-keys', { name: 'child' });
    expect(res.status).toBe(403);
    expect(res.body.error.code).toBe('AUTH_1004');
    expect((await apiClient(server.baseUrl)('GET', '/api-keys')).status).toBe(401);
  });
});
