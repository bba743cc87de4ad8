/**
 * Usage in a real Chromium against a real Pulp process (AUTH_MODE=jwt, the offline model priced
 * by MODEL_PRICES, a daily budget): after a chat, the user's Usage dialog shows today's tokens and
 * cost, the chat by name, and how much of the budget is used; the administrator sees everyone's
 * usage and each user's budget in the administration dialog, and lowers a budget there: the next
 * message is refused with a message saying when the budget resets.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { browserSkipReason, launchBrowser, type TestBrowser } from './support/browser.js';
import { seriousA11yViolations, send, waitForTurnEnd } from './support/page-helpers.js';
import { startServerForBrowser, type BrowserTestServer } from './support/pulp-server.js';

const skipReason = browserSkipReason();
if (skipReason) process.stdout.write(`${skipReason}\n`);

const ADMIN = { email: 'ada@example.test', password: 'correct horse battery', name: 'Ada' };

describe.skipIf(skipReason !== null)('usage and budgets in the web client', () => {
  let server: BrowserTestServer;
  let browser: TestBrowser;
  let page: Page;

  beforeAll(async () => {
    server = await startServerForBrowser({
      AUTH_MODE: 'jwt',
      JWT_SECRET: 'e2e-secret-that-is-long-enough-0123456789',
      MODEL_PRICES: JSON.stringify({ offline: { input: 1, output: 4 } }),
      QUOTA_TOKENS_PER_DAY: '1000000',
    });
    browser = await launchBrowser();
    page = browser.page;
    await page.goto(server.baseUrl);
    await page.getByTestId('login-form').waitFor();
    await page.getByTestId('login-toggle').click();
    await page.getByTestId('login-email').fill(ADMIN.email);
    await page.getByTestId('login-password').fill(ADMIN.password);
    await page.getByTestId('login-name').fill(ADMIN.name);
    await page.getByTestId('login-submit').click();
    await page.getByTestId('admin-open').waitFor();
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('shows the user today’s tokens and cost, the chat by name, and the budget used', async () => {
    await send(page, 'Tell me about usage accounting');
    await waitForTurnEnd(page);
    await page.getByTestId('session-title').filter({ hasNotText: 'New chat' }).waitFor();
    const title = await page.getByTestId('session-title').innerText();

    await page.getByTestId('usage-open').click();
    await page.getByTestId('usage-dialog').waitFor();
    const today = new Date().toISOString().slice(0, 10);
    await page.locator(`[data-testid=usage-row][data-key="${today}"]`).waitFor();
    expect(await page.getByTestId('usage-totals').innerText()).toMatch(/^[\d,]+ tokens in 2 model calls, \$\d/);
    expect(await page.locator(`[data-testid=usage-row][data-key="${today}"] [data-testid=usage-cost]`).innerText()).toMatch(/^\$\d/);
    expect(await page.getByTestId('usage-budget-line').first().innerText()).toMatch(/^Today: [\d,]+ tokens of 1,000,000 used; resets /);
    await browser.screenshot('usage');
    expect(await seriousA11yViolations(page)).toEqual([]);

    await page.getByTestId('usage-group').selectOption('session');
    await page.getByTestId('usage-row').filter({ hasText: title }).waitFor();
    await page.keyboard.press('Escape');
    await page.getByTestId('usage-dialog').waitFor({ state: 'hidden' });
    expect(browser.pageErrors).toEqual([]);
  });

  it('shows the administrator everyone’s usage and each user’s budget', async () => {
    await page.getByTestId('admin-open').click();
    await page.getByTestId('admin-dialog').waitFor();
    const row = page.locator(`[data-testid=admin-user-row][data-email="${ADMIN.email}"]`);
    await row.waitFor();
    expect(await row.getByTestId('admin-user-budget').innerText()).toBe('1,000,000 tokens/day');
    await page.getByTestId('admin-usage-table').getByTestId('usage-row').filter({ hasText: ADMIN.email }).waitFor();
    expect(await page.getByTestId('admin-usage-totals').innerText()).toMatch(/tokens in 2 model calls/);
    await page.getByTestId('admin-usage-group').selectOption('model');
    await page.locator('[data-testid=admin-usage-table] [data-testid=usage-row][data-key="offline"]').waitFor();
    await browser.screenshot('admin-usage');
    expect(await seriousA11yViolations(page)).toEqual([]);
    expect(browser.pageErrors).toEqual([]);
  });

  it('an administrator lowers a budget in the budget dialog; the next message is refused, saying when the budget resets', async () => {
    const row = page.locator(`[data-testid=admin-user-row][data-email="${ADMIN.email}"]`);
    await row.getByTestId('admin-edit-budget').click();
    await page.getByTestId('budget-dialog').waitFor();
    expect(await page.getByTestId('budget-tokens-day').inputValue()).toBe('');
    await page.getByTestId('budget-tokens-day').fill('1.5');
    await page.getByTestId('budget-save').click();
    expect(await page.getByTestId('budget-form-error').innerText()).toMatch(/^Tokens per day: give a whole number of tokens/);
    await page.getByTestId('budget-tokens-day').fill('1000');
    await page.getByTestId('budget-cost-month').fill('none');
    expect(await seriousA11yViolations(page)).toEqual([]);
    await page.getByTestId('budget-save').click();
    await page.getByTestId('budget-dialog').waitFor({ state: 'hidden' });
    await row.getByTestId('admin-user-budget').filter({ hasText: '1,000 tokens/day' }).waitFor();
    await page.getByTestId('admin-live').filter({ hasText: `The budget of ${ADMIN.email} is now: 1,000 tokens/day.` }).waitFor({ state: 'attached' });
    await page.keyboard.press('Escape');
    await page.getByTestId('admin-dialog').waitFor({ state: 'hidden' });

    await send(page, 'One more question');
    await page.getByTestId('error-text').filter({ hasText: 'QUOTA_3101' }).waitFor();
    expect(await page.getByTestId('error-text').innerText()).toMatch(/^Today’s budget is used up; it resets at \d{4}-\d\d-\d\d 00:00 UTC\. \([\d,]+ of 1,000 tokens used\.\) \(QUOTA_3101\)$/);
    await browser.screenshot('budget-refused');
    expect(browser.pageErrors).toEqual([]);
  });
});
