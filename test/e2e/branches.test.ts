/**
 * Conversation trees in the web client (real Chromium, a real Pulp process on the offline model,
 * which answers "You said: …"): the pencil edits a question and sends the new wording as a second
 * version, regenerate answers a question again, and `‹ n / m ›` switches between versions — also
 * after a reload.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { browserSkipReason, launchBrowser, type TestBrowser } from './support/browser.js';
import { send, waitForTurnEnd } from './support/page-helpers.js';
import { startServerForBrowser, type BrowserTestServer } from './support/pulp-server.js';

const skipReason = browserSkipReason();
if (skipReason) process.stdout.write(`${skipReason}\n`);

/** The user messages and answers shown, in order. */
async function shown(page: Page): Promise<string[]> {
  return page.locator('[data-testid=user-message] .user-text, [data-testid=assistant-message] .markdown').allInnerTexts();
}

/** Waits for the stored history (with its controls) to be on screen after a turn. */
async function controlsShown(page: Page): Promise<void> {
  await waitForTurnEnd(page);
  await page.getByTestId('regenerate-answer').last().waitFor();
}

describe.skipIf(skipReason !== null)('branches in the web client', () => {
  let server: BrowserTestServer;
  let browser: TestBrowser;
  let page: Page;

  beforeAll(async () => {
    server = await startServerForBrowser();
    browser = await launchBrowser();
    page = browser.page;
    await page.goto(server.baseUrl);
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('the pencil sends a new wording as a second version, and ‹ › switches between the two', async () => {
    await page.getByTestId('new-session').click();
    await send(page, 'Plan a trip to Oslo');
    await controlsShown(page);

    await page.getByTestId('edit-message').first().click();
    await page.getByTestId('edit-box').fill('Plan a trip to Lima');
    await page.getByTestId('edit-send').click();
    await page.waitForFunction(() => document.querySelector('[data-testid=sibling-position]')?.textContent === '2 / 2');
    await controlsShown(page);
    let texts = await shown(page);
    expect(texts).toHaveLength(2);
    expect(texts[0]).toBe('Plan a trip to Lima');
    expect(texts[1]).toContain('Plan a trip to Lima');
    expect(texts.join(' ')).not.toContain('Oslo');
    await browser.screenshot('branch-edited');

    await page.getByTestId('sibling-prev').first().click();
    await page.waitForFunction(() => document.querySelector('[data-testid=sibling-position]')?.textContent === '1 / 2');
    texts = await shown(page);
    expect(texts[0]).toBe('Plan a trip to Oslo');
    expect(texts.join(' ')).not.toContain('Lima');

    // The chosen version is the chat's: a reload shows it, and the next message follows it.
    await page.reload();
    await page.getByTestId('sibling-position').first().waitFor();
    expect(await page.getByTestId('sibling-position').first().innerText()).toBe('1 / 2');
    await send(page, 'And the weather?');
    await controlsShown(page);
    texts = await shown(page);
    expect(texts.slice(0, 3)).toEqual(['Plan a trip to Oslo', expect.stringContaining('Oslo'), 'And the weather?']);
  });

  it('regenerate answers the same question again as a second version of the answer, without repeating the question', async () => {
    await page.getByTestId('new-session').click();
    await send(page, 'Tell me about Lisbon');
    await controlsShown(page);
    await page.getByTestId('regenerate-answer').last().click();
    await page.waitForFunction(() => [...document.querySelectorAll('[data-testid=sibling-position]')].some((e) => e.textContent === '2 / 2'));
    await controlsShown(page);
    expect(await page.getByTestId('user-message').count()).toBe(1);
    expect(await page.getByTestId('assistant-message').count()).toBe(1);
    expect(await page.getByTestId('sibling-position').first().innerText()).toBe('2 / 2');

    await page.getByTestId('sibling-prev').first().click();
    await page.waitForFunction(() => document.querySelector('[data-testid=sibling-position]')?.textContent === '1 / 2');
    expect(await page.getByTestId('user-message').count()).toBe(1);
    await page.getByTestId('sibling-next').first().click();
    await page.waitForFunction(() => document.querySelector('[data-testid=sibling-position]')?.textContent === '2 / 2');
  });
});
