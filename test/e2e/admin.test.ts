/**
 * Administration and API keys in a real Chromium against a real Pulp process (AUTH_MODE=jwt): the
 * first account is an administrator and sees "Administration"; a second account (registered over
 * REST) does not. The administrator finds it by search, switches its role there and back, is told
 * plainly when demoting the last administrator, disables it (its open page goes back to the login
 * form: "This account is disabled.") and deletes it. API keys: the secret is shown once, the key
 * is listed by its prefix, works against REST, and is refused once revoked.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { browserSkipReason, launchBrowser, type TestBrowser } from './support/browser.js';
import { connected, seriousA11yViolations, send, waitForTurnEnd } from './support/page-helpers.js';
import { startServerForBrowser, type BrowserTestServer } from './support/pulp-server.js';

const skipReason = browserSkipReason();
if (skipReason) process.stdout.write(`${skipReason}\n`);

const ADMIN = { email: 'ada@example.test', password: 'correct horse battery', name: 'Ada' };
const USER = { email: 'bob@example.test', password: 'another good password', display_name: 'Bob' };

async function logIn(page: Page, email: string, password: string): Promise<void> {
  await page.getByTestId('login-form').waitFor();
  await page.getByTestId('login-email').fill(email);
  await page.getByTestId('login-password').fill(password);
  await page.getByTestId('login-submit').click();
  await page.getByTestId('new-session').waitFor();
}

/** The admin table's row of `email`. */
const userRow = (page: Page, email: string) => page.locator(`[data-testid=admin-user-row][data-email="${email}"]`);

describe.skipIf(skipReason !== null)('administration and API keys (AUTH_MODE=jwt)', () => {
  let server: BrowserTestServer;
  let browser: TestBrowser;
  let page: Page;
  let bobBrowser: TestBrowser | undefined;

  beforeAll(async () => {
    server = await startServerForBrowser({ AUTH_MODE: 'jwt', JWT_SECRET: 'e2e-secret-that-is-long-enough-0123456789', ALLOW_REGISTRATION: 'true' });
    browser = await launchBrowser();
    page = browser.page;
    await page.goto(server.baseUrl);
  });

  afterAll(async () => {
    await bobBrowser?.close();
    await browser?.close();
    await server?.close();
  });

  it('makes the first account an administrator, who sees the Administration entry', async () => {
    await page.getByTestId('login-form').waitFor();
    await page.getByTestId('login-toggle').click();
    await page.getByTestId('login-email').fill(ADMIN.email);
    await page.getByTestId('login-password').fill(ADMIN.password);
    await page.getByTestId('login-name').fill(ADMIN.name);
    await page.getByTestId('login-submit').click();
    await page.getByTestId('admin-open').waitFor();
    expect(await page.getByTestId('api-keys-open').isVisible()).toBe(true);
  });

  it('does not show the Administration entry to a normal user', async () => {
    const res = await fetch(`${server.baseUrl}/api/v1/auth/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(USER),
    });
    expect(res.status).toBe(201);
    bobBrowser = await launchBrowser();
    await bobBrowser.page.goto(server.baseUrl);
    await logIn(bobBrowser.page, USER.email, USER.password);
    await bobBrowser.page.getByTestId('api-keys-open').waitFor();
    // /auth/me has answered once the chat list is there and the keys entry shows; the admin entry stays hidden.
    await bobBrowser.page.waitForTimeout(300);
    expect(await bobBrowser.page.getByTestId('admin-open').isVisible()).toBe(false);
    // Bob has a chat open, so a live socket, when he is disabled later.
    await send(bobBrowser.page, 'hello from bob');
    await waitForTurnEnd(bobBrowser.page);
    await connected(bobBrowser.page);
  });

  it('opens the admin page from the keyboard, finds a user by search, and switches the role there and back', async () => {
    await page.getByTestId('admin-open').focus();
    await page.keyboard.press('Enter');
    await page.getByTestId('admin-dialog').waitFor();
    await userRow(page, USER.email).waitFor();
    expect(await page.getByTestId('admin-summary').innerText()).toBe('Users 1–2 of 2.');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('admin-search');

    await page.getByTestId('admin-search').pressSequentially('bob', { delay: 30 });
    await page.waitForFunction(() => document.querySelector('[data-testid=admin-summary]')?.textContent === 'Users 1–1 of 1 matching "bob".');
    expect(await page.getByTestId('admin-user-row').count()).toBe(1);
    expect(await userRow(page, USER.email).getByRole('cell').first().innerText()).toBe('Bob');
    await browser.screenshot('admin');
    expect(await seriousA11yViolations(page)).toEqual([]);

    const role = userRow(page, USER.email).getByTestId('admin-role');
    await role.selectOption('admin');
    await page.getByTestId('admin-live').filter({ hasText: `${USER.email} is now an administrator.` }).waitFor({ state: 'attached' });
    expect(await userRow(page, USER.email).getByTestId('admin-role').inputValue()).toBe('admin');
    await userRow(page, USER.email).getByTestId('admin-role').selectOption('user');
    await page.getByTestId('admin-live').filter({ hasText: `${USER.email} is now a user.` }).waitFor({ state: 'attached' });
    expect(await userRow(page, USER.email).getByTestId('admin-role').inputValue()).toBe('user');
  });

  it('says plainly that the last administrator cannot be demoted, and puts the switch back', async () => {
    await page.getByTestId('admin-search').fill('ada');
    await userRow(page, ADMIN.email).waitFor();
    await userRow(page, ADMIN.email).getByTestId('admin-role').selectOption('user');
    const error = page.getByTestId('admin-error');
    await error.waitFor();
    expect(await error.innerText()).toMatch(/RES_3006/);
    expect(await userRow(page, ADMIN.email).getByTestId('admin-role').inputValue()).toBe('admin');
    await page.getByTestId('admin-error').getByRole('button', { name: 'Dismiss the error' }).click();
  });

  it('disables a user after a confirmation: their open page goes back to the login form saying so', async () => {
    const bob = bobBrowser!.page;
    await page.getByTestId('admin-search').fill('bob');
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=admin-user-row]').length === 1);
    await userRow(page, USER.email).getByTestId('admin-toggle-disabled').click();
    await page.getByTestId('confirm-dialog').waitFor();
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('confirm-cancel');
    await page.getByTestId('confirm-ok').click();
    await userRow(page, USER.email).getByTestId('admin-user-status').filter({ hasText: 'Disabled' }).waitFor();
    expect(await userRow(page, USER.email).getByTestId('admin-toggle-disabled').innerText()).toBe('Enable');

    await bob.getByTestId('login-form').waitFor();
    await bob.getByTestId('login-error').filter({ hasText: 'This account is disabled.' }).waitFor();
    expect(await bob.evaluate(() => localStorage.getItem('pulp.tokens'))).toBeNull();
    // And the login itself is refused with the server's message.
    await bob.getByTestId('login-email').fill(USER.email);
    await bob.getByTestId('login-password').fill(USER.password);
    await bob.getByTestId('login-submit').click();
    await bob.getByTestId('login-error').filter({ hasText: 'AUTH_1005' }).waitFor();
    expect(bobBrowser!.pageErrors).toEqual([]);
  });

  it('logs out with the same message when a REST call answers AUTH_1005 (no chat socket open)', async () => {
    const cy = { email: 'cy@example.test', password: 'yet another password' };
    const registered = await fetch(`${server.baseUrl}/api/v1/auth/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(cy),
    });
    const cyId = ((await registered.json()) as { user: { id: string } }).user.id;
    const other = bobBrowser!.page;
    await logIn(other, cy.email, cy.password);
    // A blank chat: no socket. Disable Cy behind the page's back, then send the first message.
    const adminToken = await page.evaluate(() => (JSON.parse(localStorage.getItem('pulp.tokens') ?? '{}') as { access_token?: string }).access_token);
    const patched = await fetch(`${server.baseUrl}/api/v1/admin/users/${cyId}`, {
      method: 'PATCH',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${adminToken}` },
      body: JSON.stringify({ disabled: true }),
    });
    expect(patched.status).toBe(200);
    await send(other, 'first message');
    await other.getByTestId('login-error').filter({ hasText: 'This account is disabled.' }).waitFor();
    expect(await other.locator('#app-view').isVisible()).toBe(false);
    expect(bobBrowser!.pageErrors).toEqual([]);
  });

  it('deletes a user after a confirmation that says their chats and files go too', async () => {
    await userRow(page, USER.email).getByTestId('admin-delete').click();
    await page.getByTestId('confirm-dialog').waitFor();
    expect(await page.locator('#confirm-message').innerText()).toMatch(/1 chat with their messages and files/);
    await page.getByTestId('confirm-ok').click();
    await page.getByTestId('admin-live').filter({ hasText: `${USER.email} was deleted.` }).waitFor({ state: 'attached' });
    await page.waitForFunction(() => document.querySelector('[data-testid=admin-summary]')?.textContent === 'No users matching "bob".');
    expect(await page.getByTestId('admin-user-row').count()).toBe(0);
    // Focus is back in the search box: Escape clears it first (the browser's own search field), then closes the page.
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('admin-search');
    await page.keyboard.press('Escape');
    expect(await page.getByTestId('admin-search').inputValue()).toBe('');
    await page.keyboard.press('Escape');
    await page.getByTestId('admin-dialog').waitFor({ state: 'hidden' });
  });

  it('creates an API key whose secret is shown once, that works against REST until it is revoked', async () => {
    await page.getByTestId('api-keys-open').click();
    await page.getByTestId('api-keys-empty').waitFor();
    await page.getByTestId('api-key-name').fill('ci script');
    await page.getByTestId('api-key-name').press('Enter');
    const secretBox = page.getByTestId('api-key-secret-box');
    await secretBox.waitFor();
    expect(await secretBox.innerText()).toContain('you will not see it again');
    const secret = await page.getByTestId('api-key-secret').innerText();
    expect(secret).toMatch(/^pulp_/);
    await page.getByTestId('api-key-row').first().waitFor();
    expect(await page.getByTestId('api-key-row').first().getAttribute('data-prefix')).toBe(secret.slice(0, 12));
    expect(await page.getByTestId('api-key-prefix').first().innerText()).toBe(`${secret.slice(0, 12)}…`);
    expect(await page.getByTestId('api-key-table').innerText()).not.toContain(secret);
    await browser.screenshot('api-keys');
    expect(await seriousA11yViolations(page)).toEqual([]);

    const withKey = () => fetch(`${server.baseUrl}/api/v1/sessions`, { headers: { authorization: `Bearer ${secret}` } });
    expect((await withKey()).status).toBe(200);

    // Shown once: closing and reopening the dialog does not show it again.
    await page.getByTestId('api-key-secret-done').click();
    expect(await secretBox.isVisible()).toBe(false);
    await page.keyboard.press('Escape');
    await page.getByTestId('api-keys-open').click();
    await page.getByTestId('api-key-row').first().waitFor();
    expect(await page.getByTestId('api-keys-dialog').innerText()).not.toContain(secret);

    await page.getByTestId('api-key-revoke').first().click();
    await page.getByTestId('confirm-ok').click();
    await page.getByTestId('api-keys-empty').waitFor();
    expect((await withKey()).status).toBe(401);
    expect(browser.pageErrors).toEqual([]);
  });

  it("shows the server's message when a key cannot be created", async () => {
    // The date field refuses past days itself; without that check the server's refusal shows.
    await page.locator('#api-key-expiry').evaluate((el) => el.removeAttribute('min'));
    await page.getByTestId('api-key-name').fill('old key');
    await page.getByTestId('api-key-expiry').fill('2000-01-01');
    await page.getByTestId('api-key-create').click();
    const error = page.getByTestId('api-keys-error');
    await error.waitFor();
    expect(await error.innerText()).toMatch(/future.*VAL_2001/);
  });
});
