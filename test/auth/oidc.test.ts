/**
 * Single sign-on against a real OpenID provider (oidc-provider, started here on 127.0.0.1): the
 * browser's part is plain HTTP — follow redirects, keep cookies, submit the provider's login and
 * consent forms. Pulp's PUBLIC_URL is an external name (as behind a proxy); the test delivers the
 * provider's redirect to the real server.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiClient } from '../support/api.js';
import { startOidcProvider, type TestOidcProvider } from '../support/oidc-provider.js';
import { startTestServer, type TestServer } from '../support/server.js';

const PUBLIC_URL = 'http://pulp.example.test';
const SECRET = 'oidc-test-secret-that-is-at-least-32-chars';

interface Account {
  email?: string;
  email_verified?: boolean;
  name?: string;
  groups?: string[];
}
const ACCOUNTS: Record<string, Account> = {
  'sub-admin': { email: 'boss@corp.test', email_verified: true, name: 'Boss', groups: ['staff', 'pulp-admins'] },
  'sub-plain': { email: 'plain@corp.test', email_verified: true, name: 'Plain', groups: ['staff'] },
  'sub-linker': { email: 'existing@corp.test', email_verified: true, groups: [] },
  'sub-unverified': { email: 'taken@corp.test', email_verified: false },
  'sub-fresh-unverified': { email: 'fresh@corp.test', email_verified: false },
};

/** A browser: cookies per host, manual redirects. */
class Browser {
  private readonly jar = new Map<string, Map<string, string>>();
  async get(url: string): Promise<Response> {
    return this.request(url, { method: 'GET' });
  }
  async post(url: string, form: Record<string, string>): Promise<Response> {
    return this.request(url, { method: 'POST', body: new URLSearchParams(form), headers: { 'content-type': 'application/x-www-form-urlencoded' } });
  }
  cookie(host: string, name: string): string | undefined {
    return this.jar.get(host)?.get(name);
  }
  private async request(url: string, init: RequestInit): Promise<Response> {
    const host = new URL(url).host;
    const cookies = [...(this.jar.get(host) ?? new Map<string, string>())].map(([k, v]) => `${k}=${v}`).join('; ');
    const res = await fetch(url, { ...init, redirect: 'manual', headers: { ...(init.headers as Record<string, string>), ...(cookies ? { cookie: cookies } : {}) } });
    for (const line of res.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const [name, ...value] = pair!.split('=');
      const jar = this.jar.get(host) ?? new Map<string, string>();
      if (/max-age=0|expires=thu, 01 jan 1970/i.test(line) || value.join('=') === '') jar.delete(name!.trim());
      else jar.set(name!.trim(), value.join('='));
      this.jar.set(host, jar);
    }
    return res;
  }
}

describe('single sign-on with OpenID Connect', () => {
  let idp: TestOidcProvider;
  let issuer: string;
  let server: TestServer;
  const toServer = (url: string) => url.replace(PUBLIC_URL, server.baseUrl);

  beforeAll(async () => {
    idp = await startOidcProvider({ redirectUri: `${PUBLIC_URL}/api/v1/auth/oidc/callback`, account: (id) => ACCOUNTS[id] });
    issuer = idp.issuer;
    server = await startTestServer({
      AUTH_MODE: 'jwt',
      JWT_SECRET: SECRET,
      AUTH_RATE_LIMIT_PER_MIN: '1000',
      PUBLIC_URL,
      OIDC_ISSUER: issuer,
      OIDC_CLIENT_ID: 'pulp',
      OIDC_CLIENT_SECRET: 'pulp-client-secret',
      OIDC_SCOPES: 'openid email profile groups',
      OIDC_ADMIN_GROUPS: 'pulp-admins, ops',
      OIDC_NAME: 'Corp',
    });
  });
  afterAll(async () => {
    await server?.close();
    await idp?.close();
  });

  /** Starts at Pulp, signs in at the provider as `accountId`; returns the callback URL and the browser. */
  async function throughProvider(accountId: string, browser = new Browser()): Promise<{ callback: string; browser: Browser }> {
    let res = await browser.get(`${server.baseUrl}/api/v1/auth/oidc/login`);
    expect(res.status).toBe(302);
    let location = res.headers.get('location')!;
    const auth = new URL(location);
    expect(auth.origin).toBe(issuer);
    expect(auth.searchParams.get('code_challenge_method')).toBe('S256');
    expect(auth.searchParams.get('state')).toBeTruthy();
    expect(auth.searchParams.get('nonce')).toBeTruthy();
    expect(auth.searchParams.get('redirect_uri')).toBe(`${PUBLIC_URL}/api/v1/auth/oidc/callback`);
    for (let hops = 0; hops < 20 && !location.startsWith(PUBLIC_URL); hops++) {
      const url = new URL(location, issuer).href;
      res = await browser.get(url);
      if (res.status === 200) {
        const html = await res.text();
        const action = new URL(/action="([^"]+)"/.exec(html)![1]!, issuer).href;
        const prompt = /name="prompt" value="(\w+)"/.exec(html)![1]!;
        res = await browser.post(action, prompt === 'login' ? { prompt, login: accountId, password: 'any' } : { prompt });
      }
      location = res.headers.get('location')!;
      expect(location, `hop ${hops}`).toBeTruthy();
    }
    return { callback: location, browser };
  }

  async function signIn(accountId: string): Promise<{ access_token: string; refresh_token: string; user: { id: string; email: string; role: string } }> {
    const { callback, browser } = await throughProvider(accountId);
    const res = await browser.get(toServer(callback));
    expect(res.status, await res.clone().text()).toBe(302);
    const target = res.headers.get('location')!;
    expect(target.startsWith(`${PUBLIC_URL}/#oidc=`)).toBe(true);
    return JSON.parse(Buffer.from(target.split('#oidc=')[1]!, 'base64url').toString('utf8'));
  }

  it('/config offers the sign-in button next to password login', async () => {
    expect((await apiClient(server.baseUrl)('GET', '/config')).body).toMatchObject({ oidc: { enabled: true, name: 'Corp' }, password_login: true });
  });

  it('signs in with PKCE, state and nonce, creates the account, and makes a member of an admin group an administrator', async () => {
    const pair = await signIn('sub-admin');
    expect(pair.user).toMatchObject({ email: 'boss@corp.test', role: 'admin' });
    const me = await apiClient(server.baseUrl, pair.access_token)('GET', '/auth/me');
    expect(me.body).toMatchObject({ email: 'boss@corp.test', display_name: 'Boss', role: 'admin' });
    // Signing in again finds the same account by issuer and subject.
    expect((await signIn('sub-admin')).user.id).toBe(pair.user.id);
    const plain = await signIn('sub-plain');
    expect(plain.user.role).toBe('user');
    expect((await apiClient(server.baseUrl, plain.access_token)('GET', '/admin/users')).status).toBe(403);
  });

  it('refuses a replayed callback, a forged state and a callback from another browser with 400 AUTH_1008', async () => {
    const { callback, browser } = await throughProvider('sub-plain');
    expect((await browser.get(toServer(callback))).status).toBe(302);
    // The same answer again: the state was spent (and its cookie cleared).
    const again = await new Browser().get(toServer(callback));
    expect(again.status).toBe(400);
    expect((await again.json()).error.code).toBe('AUTH_1008');

    const second = await throughProvider('sub-plain');
    // Another browser (no state cookie) cannot complete someone else's sign-in...
    const stolen = await new Browser().get(toServer(second.callback));
    expect(stolen.status).toBe(400);
    // ...the right browser still can, once.
    expect((await second.browser.get(toServer(second.callback))).status).toBe(302);

    const third = await throughProvider('sub-plain');
    const forged = new URL(third.callback);
    forged.searchParams.set('state', 'forged-state');
    const forgedRes = await third.browser.get(toServer(forged.href));
    expect(forgedRes.status).toBe(400);
    expect((await forgedRes.json()).error).toMatchObject({ code: 'AUTH_1008', message: 'The sign-in answer does not belong to this browser; start again.' });

    const noState = await new Browser().get(`${server.baseUrl}/api/v1/auth/oidc/callback?code=x`);
    expect(noState.status).toBe(400);
    const refused = await new Browser().get(`${server.baseUrl}/api/v1/auth/oidc/callback?error=access_denied&state=s`);
    expect((await refused.json()).error).toMatchObject({ code: 'AUTH_1008', message: 'The sign-in provider refused: access_denied.' });
  });

  it('refuses a wrong PKCE verifier: the provider does not hand out tokens', async () => {
    const { callback, browser } = await throughProvider('sub-plain');
    const state = new URL(callback).searchParams.get('state')!;
    await server.pulp.db.query('UPDATE oidc_logins SET code_verifier = $2 WHERE state = $1', [state, 'x'.repeat(43)]);
    const res = await browser.get(toServer(callback));
    expect(res.status).toBe(400);
    expect((await res.json()).error.code).toBe('AUTH_1008');
  });

  it('links to an existing account only on a verified email; an unverified one that is taken is refused', async () => {
    const anon = apiClient(server.baseUrl);
    const boss = await signIn('sub-admin');
    const admin = apiClient(server.baseUrl, boss.access_token);
    // Registration is closed after the first account; the administrator's server gets accounts by sign-on.
    const existing = await anon('POST', '/auth/register', { email: 'existing@corp.test', password: 'password123' });
    expect(existing.status).toBe(403);
    await server.pulp.db.query("INSERT INTO users (email, display_name) VALUES ('existing@corp.test', 'Existing'), ('taken@corp.test', 'Taken')");
    const linked = await signIn('sub-linker');
    expect(linked.user.email).toBe('existing@corp.test');
    const ids = (await admin('GET', '/admin/users?q=existing')).body.users.map((u: { id: string }) => u.id);
    expect(ids).toEqual([linked.user.id]);

    const { callback, browser } = await throughProvider('sub-unverified');
    const res = await browser.get(toServer(callback));
    expect(res.status).toBe(409);
    expect((await res.json()).error.code).toBe('RES_3002');
    // An unverified email nobody uses gets a new account of its own.
    expect((await signIn('sub-fresh-unverified')).user).toMatchObject({ email: 'fresh@corp.test', role: 'user' });
  });

  it('a disabled account cannot sign on; logout ends the Pulp session', async () => {
    const boss = await signIn('sub-admin');
    const plain = await signIn('sub-plain');
    const anon = apiClient(server.baseUrl);
    expect((await anon('POST', '/auth/logout', { refresh_token: plain.refresh_token })).status).toBe(204);
    expect((await anon('POST', '/auth/refresh', { refresh_token: plain.refresh_token })).status).toBe(401);

    await apiClient(server.baseUrl, boss.access_token)('PATCH', `/admin/users/${plain.user.id}`, { disabled: true });
    const { callback, browser } = await throughProvider('sub-plain');
    const res = await browser.get(toServer(callback));
    expect(res.status).toBe(403);
    expect((await res.json()).error.code).toBe('AUTH_1005');
  });
});

describe('PASSWORD_LOGIN=false', () => {
  it('refuses password login and registration, and /config says so', async () => {
    const server = await startTestServer({
      AUTH_MODE: 'jwt',
      JWT_SECRET: SECRET,
      PUBLIC_URL,
      OIDC_ISSUER: 'http://127.0.0.1:9',
      OIDC_CLIENT_ID: 'pulp',
      PASSWORD_LOGIN: 'false',
    });
    try {
      const anon = apiClient(server.baseUrl);
      expect((await anon('GET', '/config')).body).toMatchObject({ password_login: false, allow_registration: false, oidc: { enabled: true } });
      for (const path of ['/auth/register', '/auth/login']) {
        const res = await anon('POST', path, { email: 'a@example.com', password: 'password123' });
        expect(res.status).toBe(403);
        expect(res.body.error.code).toBe('AUTH_1004');
      }
      // An unreachable provider is a clear 502, not a crash.
      const login = await fetch(`${server.baseUrl}/api/v1/auth/oidc/login`, { redirect: 'manual' });
      expect(login.status).toBe(502);
      expect(((await login.json()) as { error: { code: string } }).error.code).toBe('EXT_7001');
    } finally {
      await server.close();
    }
  });
});
