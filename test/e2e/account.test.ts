/**
 * The web client in jwt mode, in a real Chromium against a real Pulp process: register, stay
 * logged in across a reload, survive a server restart (reconnect and reload of the history), and
 * log out.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { browserSkipReason, launchBrowser, type TestBrowser } from './support/browser.js';
import { seriousA11yViolations } from './support/page-helpers.js';
import { startServerForBrowser, type BrowserTestServer } from './support/pulp-server.js';

const skipReason = browserSkipReason();
if (skipReason) process.stdout.write(`${skipReason}\n`);

const connected = (page: Page) => page.waitForFunction(() => document.querySelector('[data-testid=connection-status]')?.textContent === 'Connected');

describe.skipIf(skipReason !== null)('the web client with accounts (AUTH_MODE=jwt)', () => {
  let server: BrowserTestServer;
  let browser: TestBrowser;
  let page: Page;

  beforeAll(async () => {
    server = await startServerForBrowser({ AUTH_MODE: 'jwt', JWT_SECRET: 'e2e-secret-that-is-long-enough-0123456789' });
    browser = await launchBrowser();
    page = browser.page;
    await page.goto(server.baseUrl);
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('asks for a login, refuses a wrong password with a clear message, and registers a new account', async () => {
    await page.getByTestId('login-form').waitFor();
    await browser.screenshot('login');
    expect(await seriousA11yViolations(page)).toEqual([]);
    await page.getByTestId('login-email').fill('nobody@example.test');
    await page.getByTestId('login-password').fill('wrong-password');
    await page.getByTestId('login-submit').click();
    expect(await page.getByTestId('login-error').filter({ hasText: /\S/ }).innerText()).toContain('AUTH_1006');

    await page.getByTestId('login-toggle').click();
    await page.getByTestId('login-email').fill('ada@example.test');
    await page.getByTestId('login-password').fill('correct horse battery');
    await page.getByTestId('login-name').fill('Ada');
    await page.getByTestId('login-submit').click();
    await page.getByTestId('new-session').waitFor();
    expect(await page.getByTestId('login-form').isVisible()).toBe(false);
  });

  it('keeps the user logged in across a page reload', async () => {
    await page.getByTestId('composer').fill('before the restart');
    await page.getByTestId('composer').press('Enter');
    await page.waitForFunction(() => document.body.dataset.busy === 'false' && document.querySelectorAll('[data-testid=assistant-message]').length === 1);
    await page.reload();
    await page.getByTestId('session-item').first().waitFor();
    expect(await page.getByTestId('login-form').isVisible()).toBe(false);
    await connected(page);
  });

  it('reconnects after the server restarts and shows the history, including what happened meanwhile', async () => {
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=assistant-message]').length === 1);
    const restarted = server.restart();
    await page.waitForFunction(() => /Reconnecting/.test(document.querySelector('[data-testid=connection-status]')?.textContent ?? ''));
    await browser.screenshot('reconnecting');
    await restarted;
    await connected(page);
    const texts = await page.getByTestId('user-message').allInnerTexts();
    expect(texts.map((t) => t.replace(/^You:\s*/, ''))).toEqual(['before the restart']);
    expect(await page.getByTestId('assistant-message').count()).toBe(1);
    await page.getByTestId('input-files').getByText('input/ is empty.').waitFor();

    await page.getByTestId('composer').fill('after the restart');
    await page.getByTestId('composer').press('Enter');
    await page.waitForFunction(() => document.body.dataset.busy === 'false' && document.querySelectorAll('[data-testid=assistant-message]').length === 2);
  });

  it('logs out back to the login form', async () => {
    await page.getByTestId('logout').click();
    await page.getByTestId('login-form').waitFor();
    expect(await page.evaluate(() => localStorage.getItem('pulp.tokens'))).toBeNull();
    expect(browser.pageErrors).toEqual([]);
  });
});
