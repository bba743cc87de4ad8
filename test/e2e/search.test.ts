/**
 * Search, instructions, presets and the archive in the browser: a search finds an answer by a
 * word's other form and opens its chat at it; instructions saved in the dialog, or taken from a
 * preset, reach the model; an archived chat leaves the list for the Archived view and comes back.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { startFakeOpenAI, type FakeOpenAI, type RecordedRequest } from '../support/fake-openai.js';
import { dataDirWithoutBuiltins, fakeModelEnv } from '../support/pulp-process.js';
import { browserSkipReason, launchBrowser, type TestBrowser } from './support/browser.js';
import { lastAnswer, seriousA11yViolations, send, waitForTurnEnd } from './support/page-helpers.js';
import { startServerForBrowser, type BrowserTestServer } from './support/pulp-server.js';

const skipReason = browserSkipReason();
if (skipReason) process.stdout.write(`${skipReason}\n`);

const KETTLE_ANSWER = 'Water in a kettle boils at 100 degrees at sea level.';
const PIRATE = 'Always answer like a pirate.';

const isChat = (req: RecordedRequest) => ((req.body as { tools?: unknown[] }).tools ?? []).length > 0;
/** The system prompt of a Chat Completions request. */
const systemPrompt = (req: RecordedRequest | undefined): string =>
  ((req?.body as { messages?: Array<{ role: string; content: string }> } | undefined)?.messages ?? []).find((m) => m.role === 'system')?.content ?? '';

describe.skipIf(skipReason !== null)('search, instructions, presets and the archive in the browser', () => {
  let fake: FakeOpenAI;
  let server: BrowserTestServer;
  let browser: TestBrowser;
  let page: Page;

  beforeAll(async () => {
    fake = await startFakeOpenAI();
    fake.setHandler((req) => {
      if (!isChat(req)) return { steps: [{ type: 'text', deltas: ['Kitchen notes'] }] };
      if (systemPrompt(req).startsWith(PIRATE)) return { steps: [{ type: 'text', deltas: ['Arr, ', 'matey.'] }] };
      const input = JSON.stringify((req.body as { messages?: unknown }).messages ?? '');
      return { steps: [{ type: 'text', deltas: [input.includes('kettle') ? KETTLE_ANSWER : 'Plant tomatoes in spring.'] }] };
    });
    server = await startServerForBrowser({ ...fakeModelEnv(fake.baseUrl), DATA_DIR: dataDirWithoutBuiltins('pulp-e2e-search-'), CODE_INTERPRETER: 'off' });
    browser = await launchBrowser();
    page = browser.page;
    await page.goto(server.baseUrl);
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await fake?.close();
  });

  /** Starts a blank chat and has one exchange in it. */
  async function chat(text: string): Promise<void> {
    await page.getByTestId('new-session').click();
    await send(page, text);
    await waitForTurnEnd(page);
  }

  it('finds an answer by another form of its word, highlights it, and opens the chat at that answer', async () => {
    await chat('How hot does a kettle get?');
    expect(await lastAnswer(page)).toBe(KETTLE_ANSWER);
    await chat('When do I plant tomatoes?');

    await page.getByTestId('search-input').fill('boiling');
    const result = page.getByTestId('search-result').filter({ hasText: 'boils' });
    await result.waitFor();
    expect(await page.getByTestId('session-list').isVisible()).toBe(false);
    expect(await result.locator('mark').allTextContents()).toEqual(['boils']);
    expect(await page.getByTestId('search-result').count()).toBe(1);
    expect(await seriousA11yViolations(page)).toEqual([]);

    await result.click();
    const target = page.locator('#transcript .search-target');
    await target.waitFor();
    expect(await target.getAttribute('data-testid')).toBe('assistant-message');
    expect(await target.innerText()).toContain(KETTLE_ANSWER);
    expect(await page.locator('[data-testid=user-message] .user-text').allInnerTexts()).toEqual(['How hot does a kettle get?']);

    // Escape clears the search and brings the chat list back.
    await page.getByTestId('search-input').press('Escape');
    await page.getByTestId('session-list').waitFor();
    expect(await page.getByTestId('search-results').isVisible()).toBe(false);
    await page.getByTestId('search-input').fill('zyzzogeton');
    await page.waitForFunction(() => document.querySelector('[data-testid=search-status]')?.textContent === 'No chats match.');
    await page.getByTestId('search-input').press('Escape');
    expect(browser.pageErrors).toEqual([]);
  });

  it('sends a chat’s instructions to the model, and a preset saved from them makes the next chat the same', async () => {
    await page.getByTestId('new-session').click();
    await page.getByTestId('instructions-open').click();
    await page.getByTestId('instructions-text').fill(PIRATE);
    await page.getByTestId('instructions-save').click();
    // Saving instructions on a blank chat creates it.
    await page.waitForFunction(() => location.hash.startsWith('#chat_'));
    await page.getByTestId('instructions-dialog').waitFor({ state: 'hidden' });
    await send(page, 'Hello there');
    await waitForTurnEnd(page);
    expect(await lastAnswer(page)).toBe('Arr, matey.');
    expect(systemPrompt(fake.requests.filter(isChat).at(-1)).startsWith(`${PIRATE}\n`)).toBe(true);

    await page.getByTestId('instructions-open').click();
    expect(await page.getByTestId('instructions-text').inputValue()).toBe(PIRATE);
    await page.getByTestId('preset-name').fill('Pirate');
    await page.getByTestId('preset-save').click();
    await page.waitForFunction(() => document.querySelector('[data-testid=instructions-live]')?.textContent === 'Saved as preset "Pirate".');
    expect(await seriousA11yViolations(page)).toEqual([]);
    await page.getByTestId('instructions-close').click();

    await page.getByTestId('new-session').click();
    const pirateHash = await page.evaluate(() => location.hash);
    expect(pirateHash).toBe('');
    // The list is read again each time the dialog opens: a preset chosen from the list shown
    // meanwhile stays chosen (the read is held until the choice is made).
    let releasePresets = (): void => undefined;
    const held = new Promise<void>((resolve) => (releasePresets = resolve));
    await page.route('**/api/v1/presets', async (route) => {
      if (route.request().method() === 'GET') await held;
      await route.continue();
    });
    const reloaded = page.waitForResponse((r) => r.url().endsWith('/api/v1/presets') && r.request().method() === 'GET');
    await page.getByTestId('instructions-open').click();
    await page.getByTestId('preset-picker').selectOption({ label: 'Pirate' });
    releasePresets();
    await reloaded;
    await page.unroute('**/api/v1/presets');
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=preset-picker] option').length === 2);
    await page.getByTestId('preset-apply').click();
    await page.waitForFunction(() => location.hash.startsWith('#chat_'));
    await page.getByTestId('instructions-close').click();
    await send(page, 'Hello again');
    await waitForTurnEnd(page);
    expect(await lastAnswer(page)).toBe('Arr, matey.');
    expect(browser.pageErrors).toEqual([]);
  });

  it('archives a chat out of the list into the Archived view, and brings it back', async () => {
    const items = page.getByTestId('session-item');
    const before = await items.count();
    const kettle = items.filter({ hasText: 'Kitchen notes' }).first();
    const id = await kettle.getAttribute('data-session-id');
    // By its id: titles repeat, and a list redrawn meanwhile may put another chat first.
    await page.locator(`[data-testid=session-item][data-session-id="${id}"]`).getByTestId('session-archive').click();
    await page.waitForFunction((n) => document.querySelectorAll('[data-testid=session-item]').length === n, before - 1);
    expect(await page.locator(`[data-testid=session-item][data-session-id="${id}"]`).count()).toBe(0);

    await page.getByTestId('archived-toggle').click();
    await page.locator(`[data-testid=session-item][data-session-id="${id}"]`).waitFor();
    expect(await items.count()).toBe(1);
    expect(await page.getByTestId('archived-toggle').getAttribute('aria-pressed')).toBe('true');
    await page.locator(`[data-testid=session-item][data-session-id="${id}"]`).getByTestId('session-archive').click();
    await page.waitForFunction(() => document.querySelector('[data-testid=session-list] .empty')?.textContent === 'No archived chats.');

    await page.getByTestId('archived-toggle').click();
    await page.waitForFunction((n) => document.querySelectorAll('[data-testid=session-item]').length === n, before);
    expect(browser.pageErrors).toEqual([]);
  });
});
