/**
 * A message refused by a per-user limit in the web client: the reason and code are shown, and the
 * text goes back into the message box instead of staying in the chat as if it had been sent.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { browserSkipReason, launchBrowser, type TestBrowser } from './support/browser.js';
import { send, waitForTurnEnd } from './support/page-helpers.js';
import { startServerForBrowser, type BrowserTestServer } from './support/pulp-server.js';

const skipReason = browserSkipReason();
if (skipReason) process.stdout.write(`${skipReason}\n`);

describe.skipIf(skipReason !== null)('a refused message in the web client', () => {
  let server: BrowserTestServer;
  let browser: TestBrowser;
  let page: Page;

  beforeAll(async () => {
    server = await startServerForBrowser({ USER_MESSAGES_PER_MIN: '1' });
    browser = await launchBrowser();
    page = browser.page;
    await page.goto(server.baseUrl);
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('puts the text back in the box and says why and when to retry', async () => {
    await page.getByTestId('new-session').click();
    await send(page, 'first message');
    await page.getByTestId('assistant-message').first().waitFor();
    await waitForTurnEnd(page);

    await send(page, 'second message, over the limit');
    await page.getByTestId('error-banner').waitFor({ state: 'visible' });
    expect(await page.getByTestId('error-text').innerText()).toMatch(
      /^Too many messages: the limit is 1 message a minute\. Your message was not sent; send it again in \d+ s\. \(QUOTA_9101\) The message is back in the box\.$/,
    );
    expect(await page.getByTestId('composer').inputValue()).toBe('second message, over the limit');
    expect(await page.getByTestId('user-message').allInnerTexts()).toEqual([expect.stringContaining('first message')]);
    await browser.screenshot('refused-message');
  });
});
