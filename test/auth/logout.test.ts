/** Logout against a real server: the access tokens it revokes stop working at once, on REST and on the socket. */
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiClient } from '../support/api.js';
import { startTestServer, type TestServer } from '../support/server.js';

const SECRET = 'logout-test-secret-that-is-at-least-32-chars';

/** Opens the chat socket with `token`; `closed` resolves with the close code and reason. */
function openSocket(server: TestServer, sessionId: string, token: string): { opened: Promise<boolean>; closed: Promise<{ code: number; reason: string }> } {
  const socket = new WebSocket(`${server.wsUrl}/ws/chat/${sessionId}`, ['bearer', token]);
  const closed = new Promise<{ code: number; reason: string }>((resolve) => socket.on('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  const opened = new Promise<boolean>((resolve) => {
    socket.on('message', (data: Buffer) => {
      if ((JSON.parse(data.toString('utf8')) as { type: string }).type === 'pong') resolve(true);
    });
    socket.on('open', () => socket.send(JSON.stringify({ type: 'ping' })));
    void closed.then(() => resolve(false));
  });
  return { opened, closed };
}

describe('logout', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ AUTH_MODE: 'jwt', JWT_SECRET: SECRET, AUTH_RATE_LIMIT_PER_MIN: '1000', ALLOW_REGISTRATION: 'true' });
  });
  afterAll(() => server.close());

  it('makes the access token fail at once with 401 on REST and 4403 on the socket, and closes sockets opened with it', async () => {
    const anon = apiClient(server.baseUrl);
    const laptop = await anon('POST', '/auth/register', { email: 'leaving@example.com', password: 'password123' });
    const api = apiClient(server.baseUrl, laptop.body.access_token);
    const session = await api('POST', '/sessions', {});
    expect(session.status).toBe(201);
    const key = await api('POST', '/api-keys', { name: 'script' });
    const phone = await anon('POST', '/auth/login', { email: 'leaving@example.com', password: 'password123' });
    const open = openSocket(server, session.body.session_id, laptop.body.access_token);
    expect(await open.opened).toBe(true);
    expect((await api('GET', '/auth/me')).status).toBe(200);

    expect((await anon('POST', '/auth/logout', { refresh_token: laptop.body.refresh_token })).status).toBe(204);

    const me = await api('GET', '/auth/me');
    expect(me.status).toBe(401);
    expect(me.body.error).toMatchObject({ code: 'AUTH_1002', message: 'The access token was revoked by a logout; sign in again.' });
    expect((await api('GET', '/sessions')).status).toBe(401);
    expect(await open.closed).toEqual({ code: 4403, reason: 'Logged out' });
    const again = openSocket(server, session.body.session_id, laptop.body.access_token);
    expect(await again.closed).toEqual({ code: 4403, reason: 'Invalid or expired token' });

    // The phone's login goes on after a refresh, and the API key was never touched.
    expect((await apiClient(server.baseUrl, phone.body.access_token)('GET', '/auth/me')).status).toBe(401);
    const refreshed = await anon('POST', '/auth/refresh', { refresh_token: phone.body.refresh_token });
    expect(refreshed.status).toBe(200);
    expect((await apiClient(server.baseUrl, refreshed.body.access_token)('GET', '/auth/me')).status).toBe(200);
    expect((await apiClient(server.baseUrl, key.body.key)('GET', '/auth/me')).status).toBe(200);
    expect(await openSocket(server, session.body.session_id, refreshed.body.access_token).opened).toBe(true);
  });

  it("one user's logout leaves another user's tokens working", async () => {
    const anon = apiClient(server.baseUrl);
    const one = await anon('POST', '/auth/register', { email: 'one@example.com', password: 'password123' });
    const two = await anon('POST', '/auth/register', { email: 'two@example.com', password: 'password123' });
    expect((await anon('POST', '/auth/logout', { refresh_token: one.body.refresh_token })).status).toBe(204);
    expect((await anon('POST', '/auth/logout', { refresh_token: 'never-issued' })).status).toBe(204);
    expect((await apiClient(server.baseUrl, two.body.access_token)('GET', '/auth/me')).status).toBe(200);
  });
});
