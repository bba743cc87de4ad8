/**
 * The web client in a real Chromium against a real Pulp process on the offline model: sessions,
 * streaming, stop, tool cards, uploads, rename and delete — what a person does on the page.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { browserSkipReason, launchBrowser, type TestBrowser } from './support/browser.js';
import { lastAnswer, send, seriousA11yViolations, waitForTurnEnd } from './support/page-helpers.js';
import { startServerForBrowser, type BrowserTestServer } from './support/pulp-server.js';

const skipReason = browserSkipReason();
if (skipReason) process.stdout.write(`${skipReason}\n`);

describe.skipIf(skipReason !== null)('the web client', () => {
  let server: BrowserTestServer;
  let browser: TestBrowser;
  let page: Page;

  beforeAll(async () => {
    server = await startServerForBrowser({ MAX_UPLOAD_BYTES: '4096', MODELS: 'offline,gpt-4o-mini' });
    browser = await launchBrowser();
    page = browser.page;
    await page.goto(server.baseUrl);
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('the empty chat screen has no serious accessibility problems', async () => {
    await page.getByTestId('composer').waitFor();
    expect(await seriousA11yViolations(page)).toEqual([]);
  });

  it('creates a session and streams the answer to a message as markdown', async () => {
    await page.getByTestId('new-session').click();
    await send(page, 'Hello **there**');
    await page.getByTestId('session-item').first().waitFor();

    await page.getByTestId('user-message').filter({ hasText: 'Hello **there**' }).waitFor();
    await page.getByTestId('assistant-message').first().waitFor();
    await waitForTurnEnd(page);
    expect((await lastAnswer(page)).toLowerCase()).toContain('offline');
    expect(await page.getByTestId('composer').inputValue()).toBe('');
    expect(await page.getByTestId('token-label').innerText()).toMatch(/^[1-9][\d,]* \/ 25,600 \/ 32,000 tokens$/);
    await browser.screenshot('chat');
  });

  it('stopping a /long 400 answer keeps the partial text, also after a reload', async () => {
    const before = await page.getByTestId('assistant-message').count();
    await send(page, '/long 400');
    await page.waitForFunction((n) => {
      const answers = document.querySelectorAll('[data-testid=assistant-message]');
      return answers.length > n && (answers[answers.length - 1]?.textContent ?? '').split(/\s+/).length > 15;
    }, before);
    await page.getByTestId('stop').click();
    await page.getByTestId('partial-note').last().waitFor();
    await waitForTurnEnd(page);
    const shown = await lastAnswer(page);
    const shownWords = shown.split(/\s+/).length;
    expect(shownWords).toBeGreaterThan(15);
    expect(shownWords).toBeLessThan(400);
    await browser.screenshot('stopped');

    await page.reload();
    await page.getByTestId('partial-note').last().waitFor();
    const saved = await lastAnswer(page);
    expect(saved.startsWith(shown.slice(0, 40))).toBe(true);
    expect(saved.split(/\s+/).length).toBeLessThan(400);
  });

  it('a stream cut by a dropped connection goes on where it stopped after the reconnect (resume)', async () => {
    // Keep a handle on the page's sockets, so the test can drop the chat connection.
    await page.addInitScript(() => {
      const Native = window.WebSocket;
      const sockets: WebSocket[] = [];
      (window as unknown as { __sockets: WebSocket[] }).__sockets = sockets;
      window.WebSocket = class extends Native {
        constructor(url: string | URL, protocols?: string | string[]) {
          super(url, protocols);
          sockets.push(this);
        }
      };
    });
    await page.reload();
    await waitForTurnEnd(page);
    const before = await page.getByTestId('assistant-message').count();
    await send(page, '/long 300');
    await page.waitForFunction((n) => {
      const answers = document.querySelectorAll('[data-testid=assistant-message]');
      return answers.length > n && (answers[answers.length - 1]?.textContent ?? '').split(/\s+/).length > 15;
    }, before);
    await page.evaluate(() => (window as unknown as { __sockets: WebSocket[] }).__sockets.at(-1)?.close(4000, 'dropped by the test'));
    await page.waitForFunction(() => /Reconnecting/.test(document.querySelector('[data-testid=connection-status]')?.textContent ?? ''));
    await page.waitForFunction(
      () => document.body.dataset.busy === 'false' && document.querySelector('[data-testid=connection-status]')?.textContent === 'Connected' && !document.querySelector('.streaming'),
    );
    await page.waitForFunction((n) => document.querySelectorAll('[data-testid=assistant-message]').length === n + 1 && (document.querySelectorAll('[data-testid=assistant-message]')[n]?.textContent ?? '').split(/\s+/).filter(Boolean).length >= 300, before);

    const shown = (await lastAnswer(page)).split(/\s+/).filter(Boolean);
    const sessionId = await page.evaluate(() => location.hash.slice(1));
    const detail = (await (await fetch(`${server.baseUrl}/api/v1/sessions/${sessionId}`)).json()) as { messages: Array<{ role: string; content: string; partial: boolean }> };
    const stored = detail.messages.filter((m) => m.role === 'assistant').at(-1)!;
    expect(stored.partial).toBe(false);
    expect(shown).toEqual(stored.content.split(/\s+/).filter(Boolean));
    expect(await page.getByTestId('assistant-message').count()).toBe(before + 1);
  });

  it('shows a /tool list_directory {} call as a collapsible card with its arguments and result', async () => {
    await page.waitForFunction(() => document.querySelector('[data-testid=connection-status]')?.textContent === 'Connected');
    await send(page, '/tool list_directory {}');
    const card = page.locator('[data-testid=tool-card][data-tool-name=list_directory]').last();
    await card.waitFor();
    await page.waitForFunction(() => {
      const cards = document.querySelectorAll('[data-testid=tool-card][data-tool-name=list_directory]');
      return cards[cards.length - 1]?.getAttribute('data-status') === 'success';
    });
    await waitForTurnEnd(page);
    expect(await card.getByTestId('tool-result').isVisible()).toBe(false);
    await card.locator('summary').click();
    expect(await card.getByTestId('tool-status').innerText()).toBe('succeeded');
    expect(await card.getByTestId('tool-result').innerText()).toContain('input');
    expect(await card.getByTestId('tool-arguments').isVisible()).toBe(true);
    await browser.screenshot('tool-card');
    expect(await seriousA11yViolations(page)).toEqual([]);
  });

  it('uploads a file into input/ and lists it in the file panel', async () => {
    await page.getByTestId('upload-input').setInputFiles({ name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('remember the milk\n') });
    await page.getByTestId('input-files').getByText('notes.txt').waitFor();
    expect(await page.getByTestId('upload-status').innerText()).toBe('Uploaded notes.txt.');
    await browser.screenshot('files');
  });

  it('shows HTML and script links in an answer as harmless text', async () => {
    const before = await page.getByTestId('assistant-message').count();
    // The offline model quotes the user's words in its answer, so this markup reaches the renderer.
    await send(page, 'Look: <img src=x onerror="window.__pwned = 1"> and [click](javascript:window.__pwned=2)');
    await page.waitForFunction((n) => document.querySelectorAll('[data-testid=assistant-message]').length > n, before);
    await waitForTurnEnd(page);
    const answer = page.getByTestId('assistant-message').last();
    expect(await answer.innerText()).toContain('<img src=x');
    expect(await answer.locator('img').count()).toBe(0);
    expect(await answer.locator('a[href^="javascript"]').count()).toBe(0);
    expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
  });

  it('says clearly when an upload is over the size limit', async () => {
    await page.getByTestId('upload-input').setInputFiles({ name: 'big.bin', mimeType: 'application/octet-stream', buffer: Buffer.alloc(10_000) });
    await page.getByTestId('error-banner').waitFor({ state: 'visible' });
    expect(await page.getByTestId('error-text').innerText()).toMatch(/^Upload of big\.bin failed: .*\(FILE_5002\)$/);
    expect(await page.getByTestId('input-files').innerText()).not.toContain('big.bin');
    await page.getByRole('button', { name: 'Dismiss the error' }).click();
    await page.getByTestId('error-banner').waitFor({ state: 'hidden' });
  });

  it('switches the model of the session and shows the new context window in the gauge', async () => {
    await page.getByTestId('model-picker').selectOption('gpt-4o-mini');
    await page.getByTestId('token-label').filter({ hasText: '/ 102,400 / 128,000 tokens' }).waitFor();
    const id = await page.getByTestId('session-item').first().getAttribute('data-session-id');
    const stored = (await (await fetch(`${server.baseUrl}/api/v1/sessions/${id}`)).json()) as { session: { model: string } };
    expect(stored.session.model).toBe('gpt-4o-mini');
  });

  it('pins, renames and deletes a session from the sidebar', async () => {
    await page.getByTestId('session-pin').first().click();
    await page.locator('[data-testid=session-pin][aria-pressed=true]').waitFor();
    await page.getByTestId('session-rename').first().click();
    await page.getByTestId('rename-input').fill('Shopping list');
    await page.getByTestId('rename-input').press('Enter');
    await page.getByTestId('session-title').filter({ hasText: 'Shopping list' }).waitFor();
    await page.getByTestId('session-open').filter({ hasText: 'Shopping list' }).waitFor();
    await browser.screenshot('sessions');

    page.once('dialog', (dialog) => void dialog.accept());
    await page.getByTestId('session-delete').first().click();
    await page.getByTestId('session-item').first().waitFor({ state: 'detached' });
    expect(await page.getByTestId('session-title').innerText()).toBe('New chat');
    expect(await page.getByTestId('composer').isEnabled()).toBe(true);
    const list = (await (await fetch(`${server.baseUrl}/api/v1/sessions`)).json()) as { sessions: unknown[] };
    expect(list.sessions).toEqual([]);
    expect(browser.pageErrors).toEqual([]);
    // The one failed load the page saw is the refused upload (413); nothing else went wrong.
    expect(browser.consoleErrors).toEqual([expect.stringContaining('413')]);
  });
});
