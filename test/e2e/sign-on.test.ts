/**
 * Single sign-on in a real Chromium: the login screen offers "Sign in with Corp", the provider (a
 * real oidc-provider on 127.0.0.1) asks for a login and consent, and the browser lands in the chat
 * signed in, with the tokens out of the address bar; a chat works; logging out returns to the login.
 */
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import Provider from 'oidc-provider';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { browserSkipReason, launchBrowser, type TestBrowser } from './support/browser.js';
import { seriousA11yViolations } from './support/page-helpers.js';
import { startServerForBrowser, type BrowserTestServer } from './support/pulp-server.js';

const skipReason = browserSkipReason();
if (skipReason) process.stdout.write(`${skipReason}\n`);

/** A port nothing listens on right now, so Pulp's PUBLIC_URL can be known before it starts. */
async function freePort(): Promise<number> {
  const probe = createNetServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

describe.skipIf(skipReason !== null)('signing in with single sign-on (OpenID Connect)', () => {
  let idp: Server;
  let server: BrowserTestServer;
  let browser: TestBrowser;
  let page: Page;

  beforeAll(async () => {
    idp = createHttpServer();
    await new Promise<void>((resolve) => idp.listen(0, '127.0.0.1', resolve));
    const issuer = `http://127.0.0.1:${(idp.address() as AddressInfo).port}`;
    const port = await freePort();
    const publicUrl = `http://127.0.0.1:${port}`;
    const provider = new Provider(issuer, {
      clients: [
        {
          client_id: 'pulp',
          client_secret: 'pulp-client-secret',
          redirect_uris: [`${publicUrl}/api/v1/auth/oidc/callback`],
          grant_types: ['authorization_code'],
          response_types: ['code'],
        },
      ],
      pkce: { required: () => true },
      scopes: ['openid', 'email', 'profile', 'groups'],
      claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'], groups: ['groups'] },
      findAccount: (_ctx, id) => ({ accountId: id, claims: () => ({ sub: id, email: `${id}@corp.test`, email_verified: true, name: 'Dana', groups: ['staff'] }) }),
      cookies: { keys: ['oidc-e2e-cookie-key'] },
    });
    const handle = provider.callback();
    idp.on('request', (req, res) => {
      void handle(req, res);
    });
    server = await startServerForBrowser({
      AUTH_MODE: 'jwt',
      JWT_SECRET: 'e2e-secret-that-is-long-enough-0123456789',
      PORT: String(port),
      PUBLIC_URL: publicUrl,
      OIDC_ISSUER: issuer,
      OIDC_CLIENT_ID: 'pulp',
      OIDC_CLIENT_SECRET: 'pulp-client-secret',
      OIDC_SCOPES: 'openid email profile groups',
      OIDC_NAME: 'Corp',
    });
    browser = await launchBrowser();
    page = browser.page;
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    if (idp) await new Promise((resolve) => idp.close(resolve));
  });

  it('offers "Sign in with Corp", signs in at the provider and lands in the chat signed in', async () => {
    await page.goto(server.baseUrl);
    const button = page.getByTestId('login-sso');
    await button.waitFor();
    expect(await button.textContent()).toBe('Sign in with Corp');
    expect(await seriousA11yViolations(page)).toEqual([]);
    await browser.screenshot('sign-on');
    await button.click();

    // The provider's own pages: a login form, then consent.
    await page.waitForURL((url) => !url.href.startsWith(server.baseUrl));
    await page.locator('input[name=login]').fill('dana');
    await page.locator('input[name=password]').fill('any password');
    await page.locator('button[type=submit]').click();
    await page.locator('button[type=submit]').click();

    await page.waitForURL((url) => url.href.startsWith(server.baseUrl));
    await page.getByTestId('composer').waitFor();
    expect(await page.locator('#app-view').isVisible()).toBe(true);
    expect(new URL(page.url()).hash).not.toContain('oidc=');
    const tokens = await page.evaluate(() => localStorage.getItem('pulp.tokens'));
    expect(JSON.parse(tokens ?? '{}')).toMatchObject({ access_token: expect.any(String), refresh_token: expect.any(String) });
  });

  it('chats as the signed-in user, and logging out returns to the login screen', async () => {
    const input = page.getByTestId('composer');
    await input.fill('Hello from single sign-on');
    await input.press('Enter');
    await page.getByText("Hello! I am Pulp's offline model", { exact: false }).first().waitFor();
    await page.getByTestId('logout').click();
    await page.getByTestId('login-sso').waitFor();
    expect(await page.evaluate(() => localStorage.getItem('pulp.tokens'))).toBeNull();
  });
});
