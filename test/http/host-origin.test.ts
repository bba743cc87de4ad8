/**
 * DNS rebinding and cross-origin requests against a real server in the default AUTH_MODE=none:
 * a foreign Host is refused, a WebSocket or a state-changing request from a foreign page is
 * refused, and clients that send no Origin (curl, scripts) work as before.
 */
import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { loadConfig } from '../../src/config/config.js';
import { createHostCheck } from '../../src/http/host-check.js';
import { apiClient } from '../support/api.js';
import { startTestServer, type TestServer } from '../support/server.js';

interface RawAnswer {
  status: number;
  body: { error?: { code: string; message: string } } & Record<string, unknown>;
}

/** A request with exactly these headers (fetch may not set Host). */
function raw(baseUrl: string, method: string, path: string, headers: Record<string, string>, body?: unknown): Promise<RawAnswer> {
  const url = new URL(path, baseUrl);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { host: url.hostname, port: url.port, path: url.pathname, method, headers: { ...(body ? { 'content-type': 'application/json' } : {}), ...headers } },
      (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (c: string) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text ? (JSON.parse(text) as RawAnswer['body']) : {} }));
      },
    );
    req.on('error', reject);
    req.end(body ? JSON.stringify(body) : undefined);
  });
}

type SocketOutcome = { opened: true } | { opened: false; status: number; code: string | undefined };

/** Opens a chat socket with these headers and says whether it opened or which HTTP answer refused it. */
async function openSocket(url: string, headers: Record<string, string>): Promise<SocketOutcome> {
  const ws = new WebSocket(url, { headers });
  return new Promise((resolve, reject) => {
    ws.on('open', () => {
      ws.close();
      resolve({ opened: true });
    });
    ws.on('unexpected-response', (_req, res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ opened: false, status: res.statusCode ?? 0, code: (JSON.parse(text) as RawAnswer['body']).error?.code }));
    });
    ws.on('error', reject);
  });
}

describe('Host and Origin checks', () => {
  let server: TestServer;
  let port: string;
  let sessionId: string;

  beforeAll(async () => {
    server = await startTestServer();
    port = new URL(server.baseUrl).port;
    sessionId = (await apiClient(server.baseUrl)<{ session_id: string }>('POST', '/sessions', {})).body.session_id;
  });
  afterAll(() => server?.close());

  const sessionCount = async () => (await apiClient(server.baseUrl)<{ sessions: unknown[] }>('GET', '/sessions')).body.sessions.length;

  it('refuses a foreign Host (DNS rebinding) with 403 AUTH_1010, and answers loopback names on any port', async () => {
    const refused = await raw(server.baseUrl, 'GET', '/api/v1/sessions', { host: `attacker.example:${port}` });
    expect(refused.status).toBe(403);
    expect(refused.body.error).toMatchObject({ code: 'AUTH_1010', message: expect.stringContaining('ALLOWED_HOSTS') });
    for (const host of [`localhost:${port}`, `127.0.0.1:${port}`, `[::1]:${port}`, 'localhost', 'LOCALHOST.:80']) {
      expect((await raw(server.baseUrl, 'GET', '/api/v1/sessions', { host })).status, host).toBe(200);
    }
  });

  it('refuses a WebSocket from a foreign page or to a foreign Host, and opens one from its own page or without Origin', async () => {
    const url = `${server.wsUrl}/ws/chat/${sessionId}`;
    expect(await openSocket(url, { origin: 'http://evil.example' })).toEqual({ opened: false, status: 403, code: 'AUTH_1011' });
    expect(await openSocket(url, { origin: `http://localhost:1${port}` })).toEqual({ opened: false, status: 403, code: 'AUTH_1011' });
    expect(await openSocket(url, { host: 'attacker.example' })).toEqual({ opened: false, status: 403, code: 'AUTH_1010' });
    expect(await openSocket(url, { origin: `http://127.0.0.1:${port}` })).toEqual({ opened: true });
    expect(await openSocket(url, {})).toEqual({ opened: true });
  });

  it('refuses a state-changing request from a foreign page and changes nothing; reads and Origin-less clients pass', async () => {
    const before = await sessionCount();
    const refused = await raw(server.baseUrl, 'POST', '/api/v1/sessions', { origin: 'http://evil.example' }, {});
    expect(refused).toMatchObject({ status: 403, body: { error: { code: 'AUTH_1011' } } });
    const deleted = await raw(server.baseUrl, 'DELETE', `/api/v1/sessions/${sessionId}`, { origin: 'null' });
    expect(deleted).toMatchObject({ status: 403, body: { error: { code: 'AUTH_1011' } } });
    expect(await sessionCount()).toBe(before);
    expect((await raw(server.baseUrl, 'GET', '/api/v1/sessions', { origin: 'http://evil.example' })).status).toBe(200);
    expect((await raw(server.baseUrl, 'POST', '/api/v1/sessions', { origin: `http://127.0.0.1:${port}` }, {})).status).toBe(201);
    expect((await raw(server.baseUrl, 'POST', '/api/v1/sessions', {}, {})).status).toBe(201);
    expect(await sessionCount()).toBe(before + 2);
  });

  it('PUBLIC_URL and ALLOWED_HOSTS add names; ALLOWED_HOSTS=* turns the Host check off', async () => {
    const proxied = await startTestServer({ PUBLIC_URL: 'https://chat.example.com', ALLOWED_HOSTS: 'pulp.lan, other.lan:8443' });
    try {
      const host = new URL(proxied.baseUrl).host;
      expect((await raw(proxied.baseUrl, 'GET', '/api/v1/sessions', { host: 'chat.example.com' })).status).toBe(200);
      expect((await raw(proxied.baseUrl, 'GET', '/api/v1/sessions', { host: 'pulp.lan:8000' })).status).toBe(200);
      expect((await raw(proxied.baseUrl, 'GET', '/api/v1/sessions', { host: 'other.lan:8443' })).status).toBe(200);
      expect((await raw(proxied.baseUrl, 'GET', '/api/v1/sessions', { host: 'other.lan:9999' })).status).toBe(403);
      // A proxy that keeps the browser's Origin but sends its own Host.
      expect((await raw(proxied.baseUrl, 'POST', '/api/v1/sessions', { host, origin: 'https://chat.example.com' }, {})).status).toBe(201);
      expect((await raw(proxied.baseUrl, 'POST', '/api/v1/sessions', { host, origin: 'http://chat.example.com' }, {})).status).toBe(403);
    } finally {
      await proxied.close();
    }
    const open = await startTestServer({ ALLOWED_HOSTS: '*' });
    try {
      expect((await raw(open.baseUrl, 'GET', '/api/v1/sessions', { host: 'anything.example' })).status).toBe(200);
    } finally {
      await open.close();
    }
  });

  it('an IPv6 HOST or ALLOWED_HOSTS entry is a name, not a name and a port', async () => {
    const check = createHostCheck({ host: 'fd00::5', allowedHosts: ['fd00::6', 'wiki.lan:8443'] });
    const ask = (host: string) =>
      check({ headers: { host }, method: 'GET', raw: {} } as unknown as FastifyRequest, {} as FastifyReply).then(() => 'ok', (err: Error) => err.message);
    expect(await ask('[fd00::5]:8000')).toBe('ok');
    expect(await ask('[fd00::6]')).toBe('ok');
    expect(await ask('wiki.lan:8443')).toBe('ok');
    expect(await ask('[fd00::7]:8000')).toMatch(/not one this server answers to/);
    expect(await ask('fd00')).toMatch(/not one this server answers to/);
  });

  it('PUBLIC_URL must be an http(s) URL', () => {
    expect(() => loadConfig({ PUBLIC_URL: 'chat.example.com' })).toThrow(/PUBLIC_URL must be a URL/);
  });
});
