/**
 * What a chat shows when it is opened again: the model's reasoning stays with its answer,
 * collapsed, after a reload.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { startFakeOpenAI, type FakeOpenAI } from '../support/fake-openai.js';
import { dataDirWithoutBuiltins, fakeModelEnv } from '../support/pulp-process.js';
import { browserSkipReason, launchBrowser, type TestBrowser } from './support/browser.js';
import { lastAnswer, seriousA11yViolations, send, waitForTurnEnd } from './support/page-helpers.js';
import { startServerForBrowser, type BrowserTestServer } from './support/pulp-server.js';

const skipReason = browserSkipReason();
if (skipReason) process.stdout.write(`${skipReason}\n`);

const REASONING = 'The user asks about pulp. Pulp is the soft part of a fruit;\nanswer in one sentence.';
const ANSWER = 'Pulp is the soft, juicy part of a fruit.';

describe.skipIf(skipReason !== null)('a chat opened again', () => {
  let fake: FakeOpenAI;
  let server: BrowserTestServer;
  let browser: TestBrowser;
  let page: Page;

  beforeAll(async () => {
    fake = await startFakeOpenAI();
    // Chat turns (with tools) reason, then answer; the title request (no tools) gets a short title.
    fake.setHandler((req) => {
      const tools = (req.body as { tools?: unknown[] }).tools ?? [];
      if (tools.length === 0) return { steps: [{ type: 'text', deltas: ['Pulp'] }] };
      return { steps: [{ type: 'reasoning', text: REASONING }, { type: 'text', deltas: ['Pulp is the soft, ', 'juicy part of a fruit.'] }] };
    });
    server = await startServerForBrowser({ ...fakeModelEnv(fake.baseUrl), DATA_DIR: dataDirWithoutBuiltins('pulp-e2e-history-'), CODE_INTERPRETER: 'off' });
    browser = await launchBrowser();
    page = browser.page;
    await page.goto(server.baseUrl);
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await fake?.close();
  });

  it('keeps the reasoning of an answer after a reload, collapsed, with the same text', async () => {
    await send(page, 'What is pulp?');
    await waitForTurnEnd(page);
    const live = page.getByTestId('reasoning');
    expect(await live.count()).toBe(1);
    expect(await live.locator('details').getAttribute('open')).toBeNull();
    expect(await live.getByTestId('reasoning-text').textContent()).toBe(REASONING);

    await page.reload();
    await page.getByTestId('user-message').filter({ hasText: 'What is pulp?' }).waitFor();
    const stored = page.getByTestId('reasoning');
    await stored.waitFor();
    expect(await stored.count()).toBe(1);
    // Collapsed: the summary shows, the text does not until it is opened.
    expect(await stored.locator('details').getAttribute('open')).toBeNull();
    expect(await stored.getByTestId('reasoning-text').isVisible()).toBe(false);
    expect(await stored.getByTestId('reasoning-text').textContent()).toBe(REASONING);
    expect(await lastAnswer(page)).toBe(ANSWER);
    // It sits before its answer, as it streamed.
    const order = await page.locator('#transcript > li').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-testid') ?? r.className));
    expect(order).toEqual(['user-message', 'reasoning', 'assistant-message']);

    await stored.locator('summary').click();
    expect(await stored.getByTestId('reasoning-text').isVisible()).toBe(true);
    expect(await seriousA11yViolations(page)).toEqual([]);
    expect(browser.pageErrors).toEqual([]);
  });
});
