/**
 * Export, import and share in the browser: a ChatGPT export imported with the file picker opens
 * as a chat that answers; the chat downloads as JSON and Markdown; a share link made in the
 * dialog is copied, opens without an account in another page, and stops when revoked.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { startFakeOpenAI, type FakeOpenAI } from '../support/fake-openai.js';
import { dataDirWithoutBuiltins, fakeModelEnv } from '../support/pulp-process.js';
import { browserSkipReason, launchBrowser, type TestBrowser } from './support/browser.js';
import { lastAnswer, seriousA11yViolations, send, waitForTurnEnd } from './support/page-helpers.js';
import { startServerForBrowser, type BrowserTestServer } from './support/pulp-server.js';

const skipReason = browserSkipReason();
if (skipReason) process.stdout.write(`${skipReason}\n`);

const CHATGPT_EXPORT = path.resolve(import.meta.dirname, '../fixtures/import/chatgpt-conversations.json');

describe.skipIf(skipReason !== null)('export, import and share in the browser', () => {
  let fake: FakeOpenAI;
  let server: BrowserTestServer;
  let browser: TestBrowser;
  let page: Page;

  beforeAll(async () => {
    fake = await startFakeOpenAI();
    fake.setHandler(() => ({ steps: [{ type: 'text', deltas: ['Bring a light jumper for the evenings.'] }] }));
    server = await startServerForBrowser({ ...fakeModelEnv(fake.baseUrl), DATA_DIR: dataDirWithoutBuiltins('pulp-e2e-transfer-'), CODE_INTERPRETER: 'off' });
    browser = await launchBrowser();
    await browser.context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.baseUrl });
    page = browser.page;
    await page.goto(server.baseUrl);
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await fake?.close();
  });

  it('imports a ChatGPT export with the file picker and chats on it', async () => {
    await page.getByTestId('import-file').setInputFiles(CHATGPT_EXPORT);
    await page.getByTestId('session-title').filter({ hasText: 'Packing for Lisbon' }).waitFor();
    await page.getByTestId('assistant-message').filter({ hasText: 'JULY-BRANCH-ANSWER' }).waitFor();
    // Both conversations of the file are in the list.
    await page.getByTestId('session-open').filter({ hasText: 'Haiku about rain' }).waitFor();

    await send(page, 'And in August?');
    await waitForTurnEnd(page);
    expect(await lastAnswer(page)).toBe('Bring a light jumper for the evenings.');
    const request = JSON.stringify(fake.requests.at(-1)?.body);
    expect(request).toContain('JULY-BRANCH-ANSWER');
    expect(request).toContain('And in August?');
  });

  it('downloads the open chat as JSON and as Markdown', async () => {
    await page.getByTestId('share-open').click();
    const dialog = page.getByTestId('transfer-dialog');
    await dialog.waitFor();

    const [json] = await Promise.all([page.waitForEvent('download'), dialog.getByTestId('export-json').click()]);
    expect(json.suggestedFilename()).toMatch(/^pulp-packing-for-lisbon-\d{4}-\d{2}-\d{2}\.json$/);
    const doc = JSON.parse(readFileSync(await json.path(), 'utf8')) as { format: string; messages: unknown[] };
    expect(doc.format).toBe('pulp.session');
    expect(doc.messages.length).toBeGreaterThanOrEqual(9);

    const [md] = await Promise.all([page.waitForEvent('download'), dialog.getByTestId('export-markdown').click()]);
    expect(md.suggestedFilename()).toMatch(/\.md$/);
    const text = readFileSync(await md.path(), 'utf8');
    expect(text).toMatch(/^# Packing for Lisbon\n/);
    expect(text).toContain('JULY-BRANCH-ANSWER');
    expect(await seriousA11yViolations(page)).toEqual([]);
  });

  it('shares a read-only link that opens without an account and stops when revoked', async () => {
    const dialog = page.getByTestId('transfer-dialog');
    await dialog.getByTestId('share-create').click();
    await dialog.getByTestId('share-created').waitFor();
    const url = await dialog.getByTestId('share-url').inputValue();
    expect(url).toMatch(new RegExp(`^${server.baseUrl}/share/[A-Za-z0-9_-]{43}$`));
    await dialog.getByTestId('share-copy').click();
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(url);
    await dialog.getByTestId('share-item').first().waitFor();

    // The link in a page of its own: a server-rendered, read-only snapshot (no script, no form).
    const shared = await browser.context.newPage();
    await shared.goto(url);
    expect(await shared.locator('h1').textContent()).toBe('Packing for Lisbon');
    expect(await shared.locator('body').innerText()).toContain('JULY-BRANCH-ANSWER');
    expect(await shared.locator('body').innerText()).not.toContain('MARCH-BRANCH-ANSWER');
    expect(await shared.locator('textarea, input, form, script').count()).toBe(0);

    await dialog.getByTestId('share-revoke').first().click();
    await page.getByTestId('confirm-ok').click();
    await dialog.getByTestId('share-empty').waitFor({ state: 'visible' });
    const again = await shared.goto(url);
    expect(again?.status()).toBe(404);
    expect(await shared.locator('h1').textContent()).toBe('Link not available');
    await shared.close();
    expect(browser.pageErrors).toEqual([]);
  });
});
