/**
 * Hostile input never gets a 500: NUL characters in JSON fields, query and path parameters, a
 * validly signed token naming no user id, broken multipart bodies, and requests the framework
 * refuses before routing (bad URL, overlong parameter, oversized headers) all answer a 4xx in the
 * error envelope with a code that says what to fix — and nothing is stored cut short.
 */
import { connect } from 'node:net';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { apiClient } from '../support/api.js';
import { startTestServer, type TestServer } from '../support/server.js';

const SECRET = 'hostile-input-test-secret-0123456789abcdef';

interface Envelope {
  error: { code: string; message: string; details?: Array<{ field: string; message: string }> };
}

/** Sends bytes as they are and resolves with the status and parsed body of the answer. */
function rawHttp(baseUrl: string, request: string): Promise<{ status: number; body: Envelope }> {
  const { hostname, port } = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => socket.end(request));
    let text = '';
    socket.setEncoding('utf8').on('data', (c: string) => (text += c));
    socket.on('error', reject);
    socket.on('close', () => {
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0);
      const body = text.slice(text.indexOf('\r\n\r\n') + 4);
      try {
        resolve({ status, body: JSON.parse(body) as Envelope });
      } catch {
        reject(new Error(`not a JSON answer: ${text.slice(0, 300)}`));
      }
    });
  });
}

function multipart(baseUrl: string, path: string, contentType: string, body: string) {
  return fetch(`${baseUrl}/api/v1${path}`, { method: 'POST', headers: { 'content-type': contentType }, body }).then(
    async (res) => ({ status: res.status, body: (await res.json()) as Envelope }),
  );
}

describe('hostile input in the default mode', () => {
  let server: TestServer;
  let api: ReturnType<typeof apiClient>;
  let sessionId: string;

  beforeAll(async () => {
    server = await startTestServer();
    api = apiClient(server.baseUrl);
    sessionId = (await api<{ session_id: string }>('POST', '/sessions', { title: 'Plans' })).body.session_id;
  });
  afterAll(() => server?.close());

  it('a NUL character in a JSON field is 422 VAL_2001 naming the field, and the session keeps its title', async () => {
    const res = await api<Envelope>('PATCH', `/sessions/${sessionId}`, { title: 'a\u0000b' });
    expect(res.status).toBe(422);
    expect(res.body.error).toMatchObject({
      code: 'VAL_2001',
      message: 'Validation failed: title: must not contain the NUL character (U+0000)',
      details: [{ field: 'title', message: 'must not contain the NUL character (U+0000)' }],
    });
    const nested = await api<Envelope>('POST', '/sessions', { mcp_config: ['fetch', 'x\u0000'] });
    expect(nested.status).toBe(422);
    expect(nested.body.error.details?.[0]?.field).toBe('mcp_config.1');
    expect((await api<{ session: { title: string } }>('GET', `/sessions/${sessionId}`)).body.session.title).toBe('Plans');
  });

  it('an unpaired surrogate in a JSON field is 422 VAL_2001 naming the field, not stored as U+FFFD', async () => {
    const res = await fetch(`${server.baseUrl}/api/v1/sessions/${sessionId}`, {
      method: 'PATCH',
      headers: { 'content-type': 'application/json' },
      body: '{"title":"Plans \\ud800 B"}',
    });
    expect(res.status).toBe(422);
    expect(((await res.json()) as Envelope).error).toMatchObject({
      code: 'VAL_2001',
      details: [{ field: 'title', message: expect.stringContaining('unpaired UTF-16 surrogate') }],
    });
    expect((await api<{ session: { title: string } }>('GET', `/sessions/${sessionId}`)).body.session.title).toBe('Plans');
  });

  it('a NUL character in a path or query parameter is 422 VAL_2001', async () => {
    const byPath = await api<Envelope>('GET', '/sessions/abc%00def');
    expect(byPath.status).toBe(422);
    expect(byPath.body.error.details?.[0]?.field).toBe('id');
    const inFiles = await api<Envelope>('GET', `/sessions/${sessionId}/files?path=a%00b`);
    expect(inFiles.status).toBe(422);
    expect(inFiles.body.error.details?.[0]?.field).toBe('path');
  });

  it('broken multipart uploads are 4xx and store nothing', async () => {
    const path = `/sessions/${sessionId}/files`;
    const noName = await multipart(server.baseUrl, path, 'multipart/form-data; boundary=XX',
      '--XX\r\nContent-Disposition: form-data; name="file"; filename=""\r\nContent-Type: text/plain\r\n\r\nhello\r\n--XX--\r\n');
    expect(noName.status).toBe(422);
    expect(noName.body.error).toMatchObject({ code: 'VAL_2001', details: [{ field: 'file', message: 'has no file name' }] });
    const noBoundary = await multipart(server.baseUrl, path, 'multipart/form-data', '--XX\r\n\r\nhello');
    expect(noBoundary.status).toBe(400);
    expect(noBoundary.body.error).toMatchObject({ code: 'VAL_2005', message: expect.stringContaining('multipart body is malformed') });
    const truncated = await multipart(server.baseUrl, path, 'multipart/form-data; boundary=XX',
      '--XX\r\nContent-Disposition: form-data; name="file"; filename="a.txt"\r\nContent-Type: text/plain\r\n\r\nhello, and then noth');
    expect(truncated.status).toBe(400);
    expect(truncated.body.error.code).toBe('VAL_2005');
    expect((await api<{ count: number }>('GET', path)).body.count).toBe(0);
  });

  it('a malformed URL, an overlong parameter and oversized headers get the envelope', async () => {
    const badUrl = await rawHttp(server.baseUrl, 'GET /api/v1/sessions/%zz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n');
    expect(badUrl).toMatchObject({ status: 400, body: { error: { code: 'VAL_2005', message: expect.stringContaining('URL is malformed') } } });
    const long = await api<Envelope>('GET', `/sessions/${'a'.repeat(600)}`);
    expect(long.status).toBe(414);
    expect(long.body.error.code).toBe('VAL_2006');
    const bigHeaders = await rawHttp(server.baseUrl, `GET /api/v1/sessions HTTP/1.1\r\nHost: localhost\r\nX-Big: ${'b'.repeat(20_000)}\r\n\r\n`);
    expect(bigHeaders).toMatchObject({ status: 431, body: { error: { code: 'VAL_2007' } } });
    const garbage = await rawHttp(server.baseUrl, 'THIS IS NOT HTTP\r\n\r\n');
    expect(garbage).toMatchObject({ status: 400, body: { error: { code: 'VAL_2005' } } });
  });
});

describe('hostile input in jwt mode', () => {
  let server: TestServer;
  let anon: ReturnType<typeof apiClient>;

  beforeAll(async () => {
    server = await startTestServer({ AUTH_MODE: 'jwt', JWT_SECRET: SECRET, AUTH_RATE_LIMIT_PER_MIN: '1000' });
    anon = apiClient(server.baseUrl);
  });
  afterAll(() => server?.close());

  it('NUL in register display_name or login email is 422 naming the field, and no account is made', async () => {
    const reg = await anon<Envelope>('POST', '/auth/register', { email: 'nul@example.com', password: 'password1', display_name: 'A\u0000' });
    expect(reg.status).toBe(422);
    expect(reg.body.error.details?.[0]?.field).toBe('display_name');
    const login = await anon<Envelope>('POST', '/auth/login', { email: 'nul@example.com\u0000', password: 'password1' });
    expect(login.status).toBe(422);
    expect(login.body.error.details?.[0]?.field).toBe('email');
    expect((await anon('POST', '/auth/login', { email: 'nul@example.com', password: 'password1' })).status).toBe(401);
  });

  it('a validly signed token whose subject is not a user id is an invalid token, on HTTP and on the socket', async () => {
    const token = await new SignJWT({ email: 'x@example.com', type: 'access' })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('not-a-uuid')
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(new TextEncoder().encode(SECRET));
    const me = await apiClient(server.baseUrl, token)<Envelope>('GET', '/auth/me');
    expect(me.status).toBe(401);
    expect(me.body.error.code).toBe('AUTH_1002');
    const ws = new WebSocket(`${server.wsUrl}/ws/chat/anything`, ['bearer', token]);
    const [code] = await new Promise<[number, string]>((resolve) => ws.on('close', (c, r) => resolve([c, r.toString()])));
    expect(code).toBe(4403);
  });
});
