/**
 * Tool approval in the browser, on the offline model (`/tool …` calls a tool) with
 * TOOL_APPROVAL=ask: the approval card on the tool call, the badge on the chat in the list, the
 * card still there after a reload, and Approve running the tool and ending the turn.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { browserSkipReason, launchBrowser, type TestBrowser } from './support/browser.js';
import { lastAnswer, send, waitForTurnEnd } from './support/page-helpers.js';
import { startServerForBrowser, type BrowserTestServer } from './support/pulp-server.js';

const skipReason = browserSkipReason();
if (skipReason) process.stdout.write(`${skipReason}\n`);

describe.skipIf(skipReason !== null)('approving a tool call in the web client', () => {
  let server: BrowserTestServer;
  let browser: TestBrowser;
  let page: Page;

  beforeAll(async () => {
    server = await startServerForBrowser({ TOOL_APPROVAL: 'ask', CODE_INTERPRETER: 'off' });
    browser = await launchBrowser();
    page = browser.page;
    await page.goto(server.baseUrl);
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('the card asks, the chat shows a badge, the card survives a reload, and Approve runs the tool', async () => {
    await send(page, '/tool generate_document {"filename": "hello.md", "content": "# Hello"}');
    const card = page.getByTestId('approval-card');
    await card.waitFor();
    expect(await card.innerText()).toContain('Run generate_document?');
    const toolCard = page.getByTestId('tool-card').last();
    expect(await toolCard.getByTestId('tool-status').innerText()).toBe('waiting for your approval');
    expect(await toolCard.getByTestId('tool-arguments').innerText()).toContain('"filename": "hello.md"');
    await waitForTurnEnd(page);
    await page.getByTestId('approval-badge').waitFor();

    await page.reload();
    await page.getByTestId('approval-card').waitFor();
    expect(await page.getByTestId('tool-card').last().getByTestId('tool-status').innerText()).toBe('waiting for your approval');
    await page.getByTestId('approval-badge').waitFor();

    await page.getByTestId('approval-approve').click();
    await page.getByTestId('tool-card').last().getByTestId('tool-status').filter({ hasText: 'succeeded' }).waitFor();
    await waitForTurnEnd(page);
    await page.getByTestId('assistant-message').filter({ hasText: 'generate_document' }).waitFor();
    expect(await lastAnswer(page)).toContain('generate_document');
    // The card may be collapsed once the answer is redrawn from the stored history: read its text, not what is laid out.
    expect((await page.getByTestId('approval-decision').last().textContent())?.trim()).toMatch(/^Approved by /);
    await page.getByTestId('approval-badge').waitFor({ state: 'detached' });

    const files = await fetch(`${server.baseUrl}/api/v1/sessions/${await page.evaluate(() => location.hash.slice(1))}/files?folder=output`);
    expect(JSON.stringify(await files.json())).toContain('hello.md');
  });
});
