/**
 * A message refused by a per-user limit in the web client: its bubble keeps the text, says why and
 * when to send it again, and offers Retry; nothing of it was stored.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { browserSkipReason, launchBrowser, type TestBrowser } from './support/browser.js';
import { send } from './support/page-helpers.js';
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

  it('marks the message failed with the reason and when to retry, and keeps its text', async () => {
    // The stored history the page reads after an answer is held until the refusal has shown, as on
    // a slow connection: showing that history must not take the refused message away.
    let releaseHistory = () => undefined as void;
    const historyHeld = new Promise<void>((resolve) => (releaseHistory = resolve));
    await page.route(/\/api\/v1\/sessions\/[^/?]+\?limit=/, async (route) => {
      if ((await page.getByTestId('assistant-message').count()) > 0) await historyHeld;
      await route.continue();
    });
    await page.getByTestId('new-session').click();
    await send(page, 'first message');
    await page.getByTestId('assistant-message').first().waitFor();
    // The turn has ended (not waitForTurnEnd: that waits for the history this test holds).
    await page.waitForFunction(() => document.body.dataset.busy === 'false');

    await send(page, 'second message, over the limit');
    const bubble = page.getByTestId('user-message').nth(1);
    await bubble.getByTestId('send-failed').waitFor();
    releaseHistory();
    // The history has been shown when the first question carries its stored id.
    await page.locator('[data-testid=user-message][data-message-id]').first().waitFor();
    await page.unroute(/\/api\/v1\/sessions\/[^/?]+\?limit=/);
    expect(await bubble.getByTestId('send-failed').innerText()).toMatch(
      /Too many messages: the limit is 1 message a minute\. Your message was not sent; send it again in \d+ s\. \(QUOTA_3201\)/,
    );
    expect(await bubble.innerText()).toContain('second message, over the limit');
    await bubble.getByTestId('retry-send').waitFor();
    const sessionId = await page.evaluate(() => location.hash.slice(1));
    const answer = await fetch(`${server.baseUrl}/api/v1/sessions/${sessionId}/messages?limit=100`);
    const stored = ((await answer.json()) as { messages: Array<{ role: string; content: string }> }).messages;
    expect(stored.filter((m) => m.role === 'user').map((m) => m.content)).toEqual(['first message']);
    await browser.screenshot('refused-message');
  });
});
