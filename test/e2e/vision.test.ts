/**
 * An image sent with a message, in the browser: uploaded to the chat, chosen with the paperclip,
 * sent with the next message; the user's bubble shows its thumbnail (through the authenticated
 * files API), the fake model gets it as an image part, and a reload shows the thumbnail again;
 * an edit of the question sends the image again with the new wording.
 */
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { startFakeOpenAI, type FakeOpenAI } from '../support/fake-openai.js';
import { dataDirWithoutBuiltins, fakeModelEnv } from '../support/pulp-process.js';
import { browserSkipReason, launchBrowser, type TestBrowser } from './support/browser.js';
import { send, seriousA11yViolations, waitForTurnEnd } from './support/page-helpers.js';
import { startServerForBrowser, type BrowserTestServer } from './support/pulp-server.js';

const skipReason = browserSkipReason();
if (skipReason) process.stdout.write(`${skipReason}\n`);

const thumbnailLoaded = (page: Page) =>
  page.waitForFunction(() => {
    const img = document.querySelector<HTMLImageElement>('[data-testid="user-message"] img[data-testid="attachment-thumb"]');
    return img !== null && img.complete && img.naturalWidth > 0 && img.src.startsWith('blob:');
  });

describe.skipIf(skipReason !== null)('an image attached to a message', () => {
  let fake: FakeOpenAI;
  let server: BrowserTestServer;
  let browser: TestBrowser;
  let page: Page;

  beforeAll(async () => {
    fake = await startFakeOpenAI();
    fake.setHandler(() => ({ steps: [{ type: 'text', deltas: ['A blue square.'] }] }));
    server = await startServerForBrowser({ ...fakeModelEnv(fake.baseUrl), DATA_DIR: dataDirWithoutBuiltins('pulp-e2e-vision-') });
    browser = await launchBrowser();
    page = browser.page;
    await page.goto(server.baseUrl);
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await fake?.close();
  });

  it('is chosen with the paperclip, reaches the model, shows as a thumbnail before and after a reload, and stays with an edited question', async () => {
    await send(page, 'Hello');
    await waitForTurnEnd(page);
    const png = await sharp({ create: { width: 64, height: 64, channels: 3, background: { r: 20, g: 60, b: 220 } } }).png().toBuffer();
    await page.getByTestId('upload-input').setInputFiles({ name: 'square.png', mimeType: 'image/png', buffer: png });
    await page.getByTestId('file-item').filter({ hasText: 'square.png' }).waitFor();

    await page.getByTestId('attach').click();
    await page.getByTestId('attach-option').first().waitFor();
    expect(await seriousA11yViolations(page)).toEqual([]);
    await page.locator('[data-testid="attach-option"][data-file="input/square.png"]').click();
    expect(await page.getByTestId('attach-chip').innerText()).toContain('input/square.png');
    await send(page, 'What is in this picture?');
    await waitForTurnEnd(page);
    await thumbnailLoaded(page);
    expect(await page.getByTestId('attach-chip').count()).toBe(0);

    const request = fake.requests.at(-1)!;
    const user = (request.body.messages as Array<{ role: string; content: unknown }>).filter((m) => m.role === 'user').at(-1);
    expect(user?.content).toEqual(
      expect.arrayContaining([{ type: 'image_url', image_url: { url: `data:image/png;base64,${png.toString('base64')}` } }]),
    );
    await browser.screenshot('vision-attachment');

    await page.reload();
    await thumbnailLoaded(page);

    // Editing the question changes its wording only: the image goes with the new version.
    await page.getByTestId('edit-message').last().click();
    await page.getByTestId('edit-box').fill('Describe this picture.');
    const edited = fake.nextRequest();
    await page.getByTestId('edit-send').click();
    const again = (((await edited).body.messages as Array<{ role: string; content: unknown }>).filter((m) => m.role === 'user').at(-1));
    expect(again?.content).toEqual(
      expect.arrayContaining([{ type: 'text', text: 'Describe this picture.' }, { type: 'image_url', image_url: { url: `data:image/png;base64,${png.toString('base64')}` } }]),
    );
    await waitForTurnEnd(page);
    await thumbnailLoaded(page);
    expect(await page.getByTestId('user-message').last().innerText()).toContain('Describe this picture.');
  });
});
