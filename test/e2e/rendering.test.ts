/**
 * How answers look: a scripted model (test/support/fake-openai.ts) answers with code, a table and
 * LaTeX math; the page shows highlighted code with its language and a copy button, a table, and
 * KaTeX-typeset formulas, and the copy buttons put the right text on the clipboard.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { startFakeOpenAI, type FakeOpenAI } from '../support/fake-openai.js';
import { dataDirWithoutBuiltins, fakeModelEnv } from '../support/pulp-process.js';
import { browserSkipReason, launchBrowser, type TestBrowser } from './support/browser.js';
import { send, waitForTurnEnd } from './support/page-helpers.js';
import { startServerForBrowser, type BrowserTestServer } from './support/pulp-server.js';

const skipReason = browserSkipReason();
if (skipReason) process.stdout.write(`${skipReason}\n`);

const CODE = 'def greet(name):\n    return f"Hello, {name}!"';
const ANSWER = [
  'Here is a function:\n\n```python\n',
  `${CODE}\n\`\`\`\n\n`,
  '| Language | Typing |\n|---|---|\n| Python | dynamic |\n| Rust | static |\n\n',
  'Euler wrote $e^{i\\pi} + 1 = 0$, and the Gaussian integral is\n\n$$\\int_{-\\infty}^{\\infty} e^{-x^2}\\,dx = \\sqrt{\\pi}$$\n\n',
  'Also \\(a^2 + b^2 = c^2\\). A price like $5 and $10 stays text.',
];

describe.skipIf(skipReason !== null)('rendered answers', () => {
  let fake: FakeOpenAI;
  let server: BrowserTestServer;
  let browser: TestBrowser;
  let page: Page;

  beforeAll(async () => {
    fake = await startFakeOpenAI();
    // Chat turns (with tools) get the scripted answer; the title request (no tools) a short title.
    fake.setHandler((req) => {
      const tools = (req.body as { tools?: unknown[] }).tools ?? [];
      return { steps: [{ type: 'text', deltas: tools.length > 0 ? ANSWER : ['Rendering demo'] }] };
    });
    server = await startServerForBrowser({ ...fakeModelEnv(fake.baseUrl), DATA_DIR: dataDirWithoutBuiltins('pulp-e2e-render-'), CODE_INTERPRETER: 'off' });
    browser = await launchBrowser();
    page = browser.page;
    await browser.context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.baseUrl });
    await page.goto(server.baseUrl);
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await fake?.close();
  });

  it('shows highlighted code with its language, a table and typeset math', async () => {
    await send(page, 'Show me what you can render');
    await waitForTurnEnd(page);
    const answer = page.getByTestId('assistant-message').last();
    const block = answer.getByTestId('code-block');
    await block.locator('.hljs-keyword').first().waitFor();
    expect(await block.getByTestId('code-language').innerText()).toBe('python');
    expect(await block.locator('.hljs-keyword').first().innerText()).toBe('def');
    expect((await block.locator('code').innerText()).trimEnd()).toBe(CODE);

    expect(await answer.locator('table th').allInnerTexts()).toEqual(['Language', 'Typing']);
    expect(await answer.locator('table td').allInnerTexts()).toEqual(['Python', 'dynamic', 'Rust', 'static']);

    await answer.locator('.katex-display').waitFor();
    expect(await answer.locator('.katex').count()).toBe(3);
    // KaTeX's stylesheet and fonts are served by Pulp itself: the formula has its typeset height.
    await page.waitForFunction(() => document.fonts.status === 'loaded');
    expect(await answer.locator('.katex-display .katex-html').evaluate((el) => getComputedStyle(el).display)).not.toBe('inline');
    expect(await answer.innerText()).toContain('A price like $5 and $10 stays text.');
    await browser.screenshot('rendering');
    await page.getByTestId('theme-picker').selectOption('dark');
    await browser.screenshot('rendering-dark');
    await page.getByTestId('theme-picker').selectOption('system');
  });

  it('copies a code block, and a whole answer, to the clipboard', async () => {
    const answer = page.getByTestId('assistant-message').last();
    await answer.getByTestId('copy-code').click();
    await answer.getByTestId('copy-code').filter({ hasText: 'Copied' }).waitFor();
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(CODE);

    await answer.getByTestId('copy-answer').click();
    await answer.getByTestId('copy-answer').filter({ hasText: 'Copied' }).waitFor();
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(ANSWER.join(''));
    expect(browser.pageErrors).toEqual([]);
    expect(browser.consoleErrors).toEqual([]);
  });
});
