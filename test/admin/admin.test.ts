/** The admin API against a real server: only administrators, the last administrator stays, disabling is immediate. */
import { existsSync } from 'node:fs';
import path from 'node:path';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiClient } from '../support/api.js';
import { startTestServer, type TestServer } from '../support/server.js';

const SECRET = 'admin-test-secret-that-is-at-least-32-chars';

describe('the admin API', () => {
  let server: TestServer;
  let admin: ReturnType<typeof apiClient>;
  let adminId: string;
  const register = async (email: string) => {
    const res = await apiClient(server.baseUrl)('POST', '/auth/register', { email, password: 'password123', display_name: email.split('@')[0] });
    expect(res.status).toBe(201);
    return { id: res.body.user.id as string, token: res.body.access_token as string, refresh: res.body.refresh_token as string };
  };

  beforeAll(async () => {
    server = await startTestServer({ AUTH_MODE: 'jwt', JWT_SECRET: SECRET, AUTH_RATE_LIMIT_PER_MIN: '1000', ALLOW_REGISTRATION: 'true' });
    const first = await register('root@example.com');
    adminId = first.id;
    admin = apiClient(server.baseUrl, first.token);
  });
  afterAll(() => server.close());

  it('refuses every admin route to a normal user with 403 AUTH_1004 and shows nothing', async () => {
    const user = await register('plain@example.com');
    const api = apiClient(server.baseUrl, user.token);
    for (const [method, url, body] of [
      ['GET', '/admin/users'],
      ['GET', '/admin/users?q=root'],
      ['GET', `/admin/users/${adminId}`],
      ['PATCH', `/admin/users/${user.id}`, { role: 'admin' }],
      ['PATCH', `/admin/users/${adminId}`, { disabled: true }],
      ['DELETE', `/admin/users/${adminId}`],
    ] as const) {
      const res = await api(method, url, body);
      expect(res.status, `${method} ${url}`).toBe(403);
      expect(res.body.error.code).toBe('AUTH_1004');
      expect(JSON.stringify(res.body)).not.toContain('root@example.com');
    }
    expect((await apiClient(server.baseUrl)('GET', '/admin/users')).status).toBe(401);
    expect((await api('GET', '/auth/me')).body.role).toBe('user');
  });

  it('lists and searches users with paging; wildcards in q are literal', async () => {
    await register('search_me@example.com');
    await register('searchXme@example.com');
    const all = await admin('GET', '/admin/users?limit=2');
    expect(all.status).toBe(200);
    expect(all.body.users).toHaveLength(2);
    expect(all.body.users[0]).toMatchObject({ id: adminId, email: 'root@example.com', role: 'admin', disabled: false, session_count: 0 });
    expect(all.body.pagination).toMatchObject({ offset: 0, limit: 2, has_more: true });
    const found = await admin('GET', '/admin/users?q=search_me');
    expect(found.body.users.map((u: { email: string }) => u.email)).toEqual(['search_me@example.com']);
    expect((await admin('GET', '/admin/users?q=SEARCH')).body.pagination.total_count).toBe(2);
    for (const bad of ['?limit=0', '?limit=101', '?offset=-1', `?q=${'x'.repeat(201)}`]) {
      const res = await admin('GET', `/admin/users${bad}`);
      expect(res.status, bad).toBe(422);
      expect(res.body.error.code).toBe('VAL_2001');
    }
  });

  it('answers 404 for unknown or malformed ids and 422 for a bad body', async () => {
    for (const id of ['00000000-0000-4000-8000-000000000000', 'not-a-uuid']) {
      expect((await admin('GET', `/admin/users/${id}`)).body.error.code).toBe('RES_3001');
      expect((await admin('PATCH', `/admin/users/${id}`, { disabled: true })).status).toBe(404);
      expect((await admin('DELETE', `/admin/users/${id}`)).status).toBe(404);
    }
    for (const body of [{}, { role: 'root' }, { disabled: 'yes' }, { role: 'user', extra: 1 }]) {
      expect((await admin('PATCH', `/admin/users/${adminId}`, body)).status).toBe(422);
    }
  });

  it('keeps the last enabled administrator: no demoting, disabling or deleting them (409 RES_3006)', async () => {
    for (const [method, body] of [['PATCH', { role: 'user' }], ['PATCH', { disabled: true }], ['DELETE', undefined]] as const) {
      const res = await admin(method, `/admin/users/${adminId}`, body);
      expect(res.status).toBe(409);
      expect(res.body.error.code).toBe('RES_3006');
    }
    const other = await register('second-admin@example.com');
    expect((await admin('PATCH', `/admin/users/${other.id}`, { role: 'admin' })).body.role).toBe('admin');
    // With a second administrator the first may step down, and the second is then the last.
    const second = apiClient(server.baseUrl, other.token);
    expect((await admin('PATCH', `/admin/users/${adminId}`, { role: 'user' })).body.role).toBe('user');
    expect((await admin('GET', '/admin/users')).status).toBe(403);
    expect((await second('PATCH', `/admin/users/${other.id}`, { disabled: true })).status).toBe(409);
    expect((await second('PATCH', `/admin/users/${adminId}`, { role: 'admin' })).body.role).toBe('admin');
  });

  it('disabling refuses the access token, the refresh token and the password at once, and closes open sockets with 4403', async () => {
    const victim = await register('victim@example.com');
    const api = apiClient(server.baseUrl, victim.token);
    const session = await api('POST', '/sessions', {});
    const socket = new WebSocket(`${server.wsUrl}/ws/chat/${session.body.session_id}`, ['bearer', victim.token]);
    await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
    const closed = new Promise<number>((resolve) => socket.once('close', (code) => resolve(code)));

    const patched = await admin('PATCH', `/admin/users/${victim.id}`, { disabled: true });
    expect(patched.body).toMatchObject({ disabled: true, session_count: 1 });
    expect(await closed).toBe(4403);
    // Reconnecting is refused the same way, saying why.
    const again = new WebSocket(`${server.wsUrl}/ws/chat/${session.body.session_id}`, ['bearer', victim.token]);
    const refused = await new Promise<{ code: number; reason: string }>((resolve) => again.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));
    expect(refused).toEqual({ code: 4403, reason: 'Account disabled' });
    const me = await api('GET', '/auth/me');
    expect(me.status).toBe(403);
    expect(me.body.error.code).toBe('AUTH_1005');
    expect((await api('GET', '/sessions')).status).toBe(403);
    const anon = apiClient(server.baseUrl);
    expect((await anon('POST', '/auth/refresh', { refresh_token: victim.refresh })).status).toBe(401);
    expect((await anon('POST', '/auth/login', { email: 'victim@example.com', password: 'password123' })).body.error.code).toBe('AUTH_1005');
    // A wrong password still gets the usual answer: being disabled is told only to the owner.
    expect((await anon('POST', '/auth/login', { email: 'victim@example.com', password: 'wrong-password' })).body.error.code).toBe('AUTH_1006');

    await admin('PATCH', `/admin/users/${victim.id}`, { disabled: false });
    expect((await api('GET', '/auth/me')).status).toBe(200);
  });

  it('deletes a user with their sessions, messages and workspace files', async () => {
    const doomed = await register('doomed@example.com');
    const api = apiClient(server.baseUrl, doomed.token);
    const session = await api('POST', '/sessions', { title: 'to go' });
    const workspace = path.join(server.dataDir, 'sessions', session.body.session_id);
    const form = new FormData();
    form.append('folder', 'input');
    form.append('file', new Blob(['a,b\n']), 'data.csv');
    const upload = await fetch(`${server.baseUrl}/api/v1/sessions/${session.body.session_id}/files`, {
      method: 'POST',
      headers: { authorization: `Bearer ${doomed.token}` },
      body: form,
    });
    expect(upload.status).toBe(201);
    const dirs = (await server.pulp.db.query<{ n: number | string }>('SELECT count(*) AS n FROM sessions WHERE user_id = $1', [doomed.id])).rows;
    expect(Number(dirs[0]!.n)).toBe(1);
    expect(existsSync(path.join(workspace, 'input', 'data.csv'))).toBe(true);

    const res = await admin('DELETE', `/admin/users/${doomed.id}`);
    expect(res.status).toBe(204);
    expect((await admin('GET', `/admin/users/${doomed.id}`)).status).toBe(404);
    expect((await api('GET', '/auth/me')).status).toBe(401);
    const left = await server.pulp.db.query<{ n: number | string }>('SELECT count(*) AS n FROM sessions WHERE session_id = $1', [session.body.session_id]);
    expect(Number(left.rows[0]!.n)).toBe(0);
    expect(existsSync(workspace)).toBe(false);
  });
});

describe('the admin API in AUTH_MODE=none', () => {
  it('treats the local user as administrator', async () => {
    const server = await startTestServer();
    try {
      const api = apiClient(server.baseUrl);
      expect((await api('GET', '/auth/me')).body.role).toBe('admin');
      const list = await api('GET', '/admin/users');
      expect(list.status).toBe(200);
      expect(list.body.users).toEqual([expect.objectContaining({ email: 'local@pulp.localhost', role: 'admin' })]);
      expect((await api('PATCH', `/admin/users/${list.body.users[0].id}`, { disabled: true })).status).toBe(409);
    } finally {
      await server.close();
    }
  });
});
