/**
 * Single sign-on in a real Chromium: the login screen offers "Sign in with Corp", the provider (a
 * real oidc-provider on 127.0.0.1) asks for a login and consent, and the browser lands in the chat
 * signed in, with the tokens out of the address bar; a chat works; logging out returns to the login.
 */
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OIDC_CLIENT_ID, OIDC_CLIENT_SECRET, startOidcProvider, type TestOidcProvider } from '../support/oidc-provider.js';
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
  let idp: TestOidcProvider | undefined;
  let server: BrowserTestServer;
  let browser: TestBrowser;
  let page: Page;

  beforeAll(async () => {
    const port = await freePort();
    const publicUrl = `http://127.0.0.1:${port}`;
    idp = await startOidcProvider({
      redirectUri: `${publicUrl}/api/v1/auth/oidc/callback`,
      account: (id) => ({ email: `${id}@corp.test`, email_verified: true, name: 'Dana', groups: ['staff'] }),
    });
    const issuer = idp.issuer;
    server = await startServerForBrowser({
      AUTH_MODE: 'jwt',
      JWT_SECRET: 'e2e-secret-that-is-long-enough-0123456789',
      PORT: String(port),
      PUBLIC_URL: publicUrl,
      OIDC_ISSUER: issuer,
      OIDC_CLIENT_ID: OIDC_CLIENT_ID,
      OIDC_CLIENT_SECRET: OIDC_CLIENT_SECRET,
      OIDC_SCOPES: 'openid email profile groups',
      OIDC_NAME: 'Corp',
    });
    browser = await launchBrowser();
    page = browser.page;
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await idp?.close();
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
