/**
 * Plots and workspace images in the browser: the scripted model runs matplotlib in the real code
 * interpreter, the tool card shows the figure as a thumbnail (click to enlarge), and the answer's
 * Markdown image of the workspace file renders through the authenticated files API while an
 * image from another site is not loaded at all. A document search shows its sources as links.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { startFakeOpenAI, type FakeOpenAI } from '../support/fake-openai.js';
import { dataDirWithoutBuiltins, fakeModelEnv } from '../support/pulp-process.js';
import { turnItems } from '../support/request-items.js';
import { sandboxSupport } from '../workspace/support.js';
import { browserSkipReason, launchBrowser, type TestBrowser } from './support/browser.js';
import { send, waitForTurnEnd } from './support/page-helpers.js';
import { startServerForBrowser, type BrowserTestServer } from './support/pulp-server.js';

const sandbox = sandboxSupport();
const skipReason = browserSkipReason() ?? (sandbox.ok ? null : `plots.test.ts skipped: the code interpreter does not run here (${sandbox.reason})`);
if (skipReason) process.stdout.write(`${skipReason}\n`);

const PLOT = "import matplotlib.pyplot as plt\nplt.plot([1, 3, 2, 5], marker='o')\nplt.title('Sales')\nplt.savefig('output/sales.png')\n";
const ANSWER = 'Here is the chart:\n\n![Sales chart](output/sales.png)\n\nAnd a tracker: ![pixel](https://tracker.example/p.png)';

describe.skipIf(skipReason !== null)('plots and images in the chat', () => {
  let fake: FakeOpenAI;
  let server: BrowserTestServer;
  let browser: TestBrowser;
  let page: Page;

  beforeAll(async () => {
    fake = await startFakeOpenAI();
    fake.setHandler((req) => {
      const tools = (req.body as { tools?: unknown[] }).tools ?? [];
      if (tools.length === 0) return { steps: [{ type: 'text', deltas: ['Sales plot'] }] };
      const { user, after } = turnItems(req);
      const answered = after.some((i) => i.type === 'function_call_output');
      if (user.includes('handbook')) {
        if (answered) return { steps: [{ type: 'text', deltas: ['Trains are second class [input/handbook.md § Trains].'] }] };
        return { steps: [{ type: 'tool_call', name: 'search_documents', arguments: { query: 'train class' }, callId: 'call_search' }] };
      }
      if (answered) return { steps: [{ type: 'text', deltas: [ANSWER] }] };
      return { steps: [{ type: 'tool_call', name: 'execute_python_code', arguments: { code: PLOT }, callId: 'call_plot' }] };
    });
    server = await startServerForBrowser({ ...fakeModelEnv(fake.baseUrl), OPENAI_API_MODE: 'responses', DATA_DIR: dataDirWithoutBuiltins('pulp-e2e-plots-'), CODE_INTERPRETER: 'on' });
    browser = await launchBrowser();
    page = browser.page;
    await page.goto(server.baseUrl);
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await fake?.close();
  });

  it('a code-interpreter plot appears as a thumbnail and inline in the answer, and enlarges on click', async () => {
    const blocked: string[] = [];
    page.on('request', (r) => {
      if (r.url().includes('tracker.example')) blocked.push(r.url());
    });
    await send(page, 'Plot my sales');
    await waitForTurnEnd(page);
    const thumb = page.getByTestId('tool-image').first();
    await thumb.waitFor();
    await page.waitForFunction(() => {
      const img = document.querySelector<HTMLImageElement>('[data-testid="tool-image"]');
      return img !== null && img.complete && img.naturalWidth > 0;
    });
    expect(await thumb.getAttribute('src')).toMatch(/^blob:/);

    const inline = page.getByTestId('assistant-message').last().locator('img[data-workspace-path="output/sales.png"]');
    await page.waitForFunction(() => {
      const img = document.querySelector<HTMLImageElement>('[data-testid="assistant-message"] img[data-workspace-path]');
      return img !== null && img.complete && img.naturalWidth > 0;
    });
    expect(await inline.getAttribute('alt')).toBe('Sales chart');
    expect(await page.getByTestId('assistant-message').last().innerText()).toContain('[image: pixel]');
    expect(await page.locator('img[src*="tracker.example"]').count()).toBe(0);
    expect(blocked).toEqual([]);
    await browser.screenshot('plots-inline');

    await thumb.click();
    await page.getByTestId('image-viewer').waitFor();
    await browser.screenshot('plots-enlarged');
    await page.keyboard.press('Escape');
    await page.getByTestId('image-viewer').waitFor({ state: 'detached' });

    // A reload shows the same thumbnail and inline image from the stored history.
    await page.reload();
    await page.waitForFunction(() =>
      [...document.querySelectorAll<HTMLImageElement>('[data-testid="tool-image"], [data-testid="assistant-message"] img[data-workspace-path]')].filter((img) => img.complete && img.naturalWidth > 0).length === 2,
    );
  });

  it('a document search lists its sources under the tool card as links that open the file', async () => {
    await page.getByTestId('upload-input').setInputFiles({ name: 'handbook.md', mimeType: 'text/markdown', buffer: Buffer.from('# Handbook\n\n## Trains\n\nStaff travel second class.\n') });
    await page.getByTestId('file-item').filter({ hasText: 'handbook.md' }).waitFor();
    // Indexing runs in the background after the upload; the search finds the file once it is done.
    const sessionId = new URL(page.url()).hash.slice(1);
    await expect.poll(async () => {
      const res = await page.request.get(`${server.baseUrl}/api/v1/sessions/${sessionId}/documents/search?q=train`);
      return ((await res.json()) as { count: number }).count;
    }, { timeout: 30_000 }).toBeGreaterThan(0);
    await send(page, 'What does the handbook say about trains?');
    await waitForTurnEnd(page);
    const link = page.getByTestId('source-link').first();
    await link.waitFor();
    expect(await link.innerText()).toBe('input/handbook.md § Trains');
    const popup = page.waitForEvent('popup');
    await link.click();
    const opened = await popup;
    await opened.waitForURL(/^blob:/);
    expect(await opened.locator('body').innerText()).toContain('Staff travel second class.');
    await opened.close();
    await browser.screenshot('document-sources');
  });
});
