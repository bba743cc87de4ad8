/**
 * Read-only share links through the real server in jwt mode: the link serves a snapshot without
 * login, later messages never reach it, revoking stops it at once, another user's session cannot
 * be shared, and ALLOW_SHARING=false turns the feature off.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiClient } from '../support/api.js';
import { chatOnce, fixture, startTransferServer, type TransferServer } from '../transfer/support.js';

let t: TransferServer;
type Api = ReturnType<typeof apiClient>;
let alice: Api;
let aliceToken: string;
let bob: Api;

beforeAll(async () => {
  t = await startTransferServer({ AUTH_MODE: 'jwt', JWT_SECRET: 's'.repeat(40), ALLOW_REGISTRATION: 'true', USER_WRITES_PER_MIN: '0' });
  const register = async (email: string) => {
    const res = await t.api('POST', '/auth/register', { email, password: 'password123' });
    expect(res.status).toBe(201);
    return { api: apiClient(t.server.baseUrl, res.body.access_token as string), token: res.body.access_token as string };
  };
  ({ api: alice, token: aliceToken } = await register('alice@example.com'));
  ({ api: bob } = await register('bob@example.com'));
});
afterAll(async () => {
  await t?.close();
});

const anonymous = () => apiClient(t.server.baseUrl);
const page = (url: string) => fetch(`${t.server.baseUrl}${url}`);

async function importedChat(api: Api): Promise<string> {
  const res = await api('POST', '/sessions/import', fixture('open-webui-chats.json'));
  expect(res.status).toBe(201);
  return res.body.session_ids[0] as string;
}

describe('a share link', () => {
  it('serves the active path as it was, without login, as JSON and as a page', async () => {
    const id = await importedChat(alice);
    const created = await alice('POST', `/sessions/${id}/shares`);
    expect(created.status).toBe(201);
    const { token, url } = created.body as { token: string; url: string };
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(url).toBe(`/share/${token}`);

    const json = await anonymous()('GET', `/shares/${token}`);
    expect(json.status).toBe(200);
    expect(json.headers.get('cache-control')).toBe('no-store');
    expect(json.body.title).toBe('Sourdough starter');
    expect(json.body.messages.map((m: { role: string }) => m.role)).toEqual(['user', 'assistant', 'user', 'tool_call', 'assistant']);
    expect(JSON.stringify(json.body)).not.toContain('OWUI-OLD-BRANCH');
    expect(json.body.messages[0]).not.toHaveProperty('id');

    const html = await page(url);
    expect(html.status).toBe(200);
    expect(html.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(html.headers.get('content-security-policy')).toMatch(/^default-src 'none'; style-src 'sha256-[A-Za-z0-9+/=]+'/);
    expect(html.headers.get('referrer-policy')).toBe('no-referrer');
    const text = await html.text();
    expect(text).toContain('<h1>Sourdough starter</h1>');
    expect(text).toContain('OWUI-CURRENT-ANSWER');
    expect(text).toContain('Tool: get_temperature');
  });

  it('keeps the moment it was made: later messages appear only in a later link', async () => {
    const id = (await alice('POST', '/sessions', { title: 'Live chat' })).body.session_id as string;
    await chatOnce(t, id, 'THE FIRST QUESTION', aliceToken);
    const early = (await alice('POST', `/sessions/${id}/shares`)).body.token as string;
    await chatOnce(t, id, 'A LATER QUESTION', aliceToken);
    const late = (await alice('POST', `/sessions/${id}/shares`)).body.token as string;
    const earlyText = JSON.stringify((await anonymous()('GET', `/shares/${early}`)).body);
    expect(earlyText).toContain('THE FIRST QUESTION');
    expect(earlyText).not.toContain('A LATER QUESTION');
    const lateSnapshot = (await anonymous()('GET', `/shares/${late}`)).body;
    expect(lateSnapshot.messages.map((m: { content: string }) => m.content)).toEqual(['THE FIRST QUESTION', 'Noted.', 'A LATER QUESTION', 'Noted.']);
  });

  it('escapes what the chat holds', async () => {
    const hostile = [{ title: '<script>alert(1)</script>', create_time: 1_700_000_000, current_node: 'b', mapping: {
      a: { parent: null, message: { author: { role: 'user' }, content: { content_type: 'text', parts: ['<img src=x onerror=alert(1)> & "quotes"'] } } },
      b: { parent: 'a', message: { author: { role: 'assistant' }, content: { content_type: 'text', parts: ['</article><script>bad()</script>'] } } },
    } }];
    const res = await alice('POST', '/sessions/import', hostile);
    const share = await alice('POST', `/sessions/${res.body.session_ids[0]}/shares`);
    const text = await (await page(share.body.url as string)).text();
    expect(text).not.toContain('<script>');
    expect(text).not.toContain('<img');
    expect(text).toContain('&lt;img src=x onerror=alert(1)&gt; &amp; &quot;quotes&quot;');
    expect(text).toContain('<title>&lt;script&gt;alert(1)&lt;/script&gt;</title>');
  });

  it('is listed without its token and stops at once when revoked', async () => {
    const id = await importedChat(alice);
    const { body: share } = await alice('POST', `/sessions/${id}/shares`);
    const listed = await alice('GET', `/sessions/${id}/shares`);
    expect(listed.body.shares).toEqual([{ id: share.id, created_at: share.created_at, title: 'Sourdough starter', message_count: 5 }]);
    expect(JSON.stringify(listed.body)).not.toContain(share.token);

    expect((await bob('DELETE', `/sessions/${id}/shares/${share.id}`)).status).toBe(404);
    expect((await anonymous()('GET', `/shares/${share.token}`)).status).toBe(200);
    const revoked = await alice('DELETE', `/sessions/${id}/shares/${share.id}`);
    expect(revoked.status).toBe(200);
    const gone = await anonymous()('GET', `/shares/${share.token}`);
    expect(gone.status).toBe(404);
    expect(gone.body.error.code).toBe('RES_3031');
    expect((await page(share.url as string)).status).toBe(404);
    expect((await alice('DELETE', `/sessions/${id}/shares/${share.id}`)).body.error.code).toBe('RES_3031');
    expect((await alice('GET', `/sessions/${id}/shares`)).body.shares).toEqual([]);
  });

  it("cannot be made for another user's session, nor listed", async () => {
    const id = await importedChat(alice);
    const res = await bob('POST', `/sessions/${id}/shares`);
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe('SES_4001');
    expect((await bob('GET', `/sessions/${id}/shares`)).status).toBe(404);
    expect((await anonymous()('POST', `/sessions/${id}/shares`)).status).toBe(401);
  });

  it('answers 404 for an unknown or malformed token', async () => {
    expect((await anonymous()('GET', `/shares/${'A'.repeat(43)}`)).status).toBe(404);
    expect((await anonymous()('GET', '/shares/short')).status).toBe(404);
    expect((await page('/share/nope')).status).toBe(404);
  });
});

describe('ALLOW_SHARING=false', () => {
  it('refuses making and opening links, and still lets the owner revoke old ones', async () => {
    const off = await startTransferServer({ ALLOW_SHARING: 'false' });
    try {
      const { body } = await off.api('POST', '/sessions/import', fixture('librechat-flat.json'));
      const id = body.session_ids[0] as string;
      const refused = await off.api('POST', `/sessions/${id}/shares`);
      expect(refused.status).toBe(403);
      expect(refused.body.error).toMatchObject({ code: 'RES_3030', message: 'Sharing is turned off on this server (ALLOW_SHARING=false).' });
      // A link made while sharing was on (written directly) is not served either.
      const token = 'B'.repeat(43);
      const { createHash } = await import('node:crypto');
      const { rows } = await off.server.database.db.query<{ id: string; user_id: string }>('SELECT id, user_id FROM sessions WHERE session_id = $1', [id]);
      await off.server.database.db.query(
        "INSERT INTO session_shares (session_id, user_id, token_hash, snapshot) VALUES ($1, $2, $3, '{\"title\":null,\"model\":\"m\",\"shared_at\":\"2026-01-01T00:00:00.000Z\",\"messages\":[]}')",
        [rows[0]!.id, rows[0]!.user_id, createHash('sha256').update(token).digest('hex')],
      );
      expect((await off.api('GET', `/shares/${token}`)).body.error.code).toBe('RES_3030');
      expect((await fetch(`${off.server.baseUrl}/share/${token}`)).status).toBe(403);
      const listed = await off.api('GET', `/sessions/${id}/shares`);
      expect(listed.body.shares).toHaveLength(1);
      expect((await off.api('DELETE', `/sessions/${id}/shares/${listed.body.shares[0].id}`)).status).toBe(200);
    } finally {
      await off.close();
    }
  });
});
