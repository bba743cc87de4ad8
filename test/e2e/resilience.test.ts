/**
 * When things go wrong under the page: a message that never reached the server (frozen, then
 * killed) or that the provider refused is marked failed and can be sent again with Retry, its
 * text never lost; a server killed in the middle of an answer and started again shows the
 * reconnect banner, reconnects with `resume`, and the answer on screen is the model's text
 * exactly — nothing lost, nothing twice.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { startFakeOpenAI, type FakeOpenAI } from '../support/fake-openai.js';
import { dataDirWithoutBuiltins, fakeModelEnv } from '../support/pulp-process.js';
import { browserSkipReason, launchBrowser, type TestBrowser } from './support/browser.js';
import { connected, lastAnswer, seriousA11yViolations, send, waitForTurnEnd } from './support/page-helpers.js';
import { startServerForBrowser, type BrowserTestServer } from './support/pulp-server.js';

const skipReason = browserSkipReason();
if (skipReason) process.stdout.write(`${skipReason}\n`);

/**
 * A restarted server is back within seconds, but the page's next attempt may be up to 15 s away
 * (its reconnect backoff), and a busy machine starts the server slowly.
 */
const BACK_ONLINE_MS = 60_000;
/** The tests that kill and start the server again. */
const RESTART_TEST_MS = 150_000;

const STORY_DELTAS = Array.from({ length: 40 }, (_, i) => `word${i + 1} `);
const STORY = STORY_DELTAS.join('');

interface StoredMessage {
  role: string;
  content: string | null;
  partial: boolean;
}

describe.skipIf(skipReason !== null)('the web client when the server fails it', () => {
  let fake: FakeOpenAI;
  let server: BrowserTestServer;
  let browser: TestBrowser;
  let page: Page;
  /** Frames the page sent over its chat sockets, parsed. */
  const sentFrames: Array<Record<string, unknown>> = [];
  let limitedOnce = false;

  beforeAll(async () => {
    fake = await startFakeOpenAI();
    fake.setHandler((req) => {
      const body = req.body as { tools?: unknown[]; messages?: Array<{ role: string; content: unknown }> };
      if ((body.tools ?? []).length === 0) return { steps: [{ type: 'text', deltas: ['Resilience'] }] };
      const last = JSON.stringify(body.messages?.at(-1)?.content ?? '');
      if (last.includes('Tell me a story')) return { steps: [{ type: 'pace', ms: 10 }, { type: 'text', deltas: STORY_DELTAS }, { type: 'hang' }] };
      if (last.includes('Are you busy') && !limitedOnce) {
        limitedOnce = true;
        return { steps: [], error: { status: 429, message: 'Rate limit reached, try again' } };
      }
      return { steps: [{ type: 'text', deltas: ['Got it: ', last.length > 0 ? 'yes.' : 'nothing.'] }] };
    });
    server = await startServerForBrowser({ ...fakeModelEnv(fake.baseUrl), DATA_DIR: dataDirWithoutBuiltins('pulp-e2e-resilience-'), CODE_INTERPRETER: 'off' });
    browser = await launchBrowser();
    page = browser.page;
    page.on('websocket', (ws) =>
      ws.on('framesent', (frame) => {
        if (typeof frame.payload === 'string') sentFrames.push(JSON.parse(frame.payload) as Record<string, unknown>);
      }),
    );
    await page.goto(server.baseUrl);
    await send(page, 'Hello');
    await waitForTurnEnd(page);
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await fake?.close();
  });

  async function storedMessages(): Promise<StoredMessage[]> {
    const sessionId = await page.evaluate(() => location.hash.slice(1));
    const answer = await fetch(`${server.baseUrl}/api/v1/sessions/${sessionId}/messages?limit=100`);
    return ((await answer.json()) as { messages: StoredMessage[] }).messages;
  }

  it('a message the server never got is marked failed, and Retry sends the same text once the server is back', async () => {
    await connected(page);
    // Frozen, the server holds the socket open but reads nothing; killed, it never saw the message.
    server.signal('SIGSTOP');
    await send(page, 'Did this arrive?');
    const bubble = page.getByTestId('user-message').filter({ hasText: 'Did this arrive?' });
    await bubble.and(page.locator('[data-delivery=sending]')).waitFor();
    await server.stop('SIGKILL');

    await bubble.getByTestId('send-failed').waitFor();
    expect(await bubble.getByTestId('send-failed').innerText()).toContain('Not sent');
    await page.getByTestId('reconnect-banner').waitFor();
    await server.start();
    await page.getByTestId('reconnect-banner').waitFor({ state: 'hidden', timeout: BACK_ONLINE_MS });
    await connected(page);
    // The history was reloaded after the reconnect; the unsent message is still there to retry.
    await bubble.getByTestId('retry-send').waitFor();
    expect((await storedMessages()).map((m) => m.content)).not.toContain('Did this arrive?');
    expect(await seriousA11yViolations(page)).toEqual([]);

    await bubble.getByTestId('retry-send').click();
    // Wait for the answer below the question (the page may not be busy at once).
    await page.waitForFunction(() => {
      const question = [...document.querySelectorAll('[data-testid=user-message]')].filter((el) => el.textContent?.includes('Did this arrive?')).at(-1);
      let next = question?.nextElementSibling;
      while (next && next.getAttribute('data-testid') !== 'assistant-message') next = next.nextElementSibling;
      return next?.querySelector('.markdown')?.textContent?.trim() === 'Got it: yes.';
    });
    await waitForTurnEnd(page);
    expect(await lastAnswer(page)).toBe('Got it: yes.');
    expect(await bubble.getByTestId('send-failed').count()).toBe(0);
    const users = (await storedMessages()).filter((m) => m.role === 'user').map((m) => m.content);
    expect(users).toEqual(['Hello', 'Did this arrive?']);
  }, RESTART_TEST_MS);

  it('a message the provider refuses shows why, and Retry gets it answered', async () => {
    await send(page, 'Are you busy?');
    const bubble = page.getByTestId('user-message').filter({ hasText: 'Are you busy?' });
    await bubble.getByTestId('send-failed').waitFor();
    expect(await bubble.getByTestId('send-failed').innerText()).toContain('EXT_7003');
    await waitForTurnEnd(page);

    await bubble.getByTestId('retry-send').click();
    // The retry first looks the stored question up, so the page is not busy at once: wait for the
    // answer below the question.
    await page.waitForFunction(() => {
      const question = [...document.querySelectorAll('[data-testid=user-message]')].filter((el) => el.textContent?.includes('Are you busy?')).at(-1);
      let next = question?.nextElementSibling;
      while (next && next.getAttribute('data-testid') !== 'assistant-message') next = next.nextElementSibling;
      return next?.querySelector('.markdown')?.textContent?.trim() === 'Got it: yes.';
    });
    await waitForTurnEnd(page);
    expect(await lastAnswer(page)).toBe('Got it: yes.');
    expect(await bubble.getByTestId('send-failed').count()).toBe(0);
    expect(await page.getByTestId('user-message').filter({ hasText: 'Are you busy?' }).count()).toBe(1);
    // The retry answered the stored question again (regenerate): it is stored once.
    expect((await storedMessages()).filter((m) => m.content === 'Are you busy?')).toHaveLength(1);
  });

  it('a server killed in the middle of an answer and started again: the banner, a resume, and exactly the model text', async () => {
    const before = await page.getByTestId('assistant-message').count();
    await send(page, 'Tell me a story');
    await page.waitForFunction(
      ([n, text]) => {
        const answers = document.querySelectorAll('[data-testid=assistant-message] .markdown');
        return answers.length > n && answers[answers.length - 1]?.textContent?.trim() === text;
      },
      [before, STORY.trim()] as const,
    );
    // The whole text streamed so far is in the saved checkpoint; the model is still "thinking".
    await expect.poll(async () => (await storedMessages()).at(-1)?.content, { timeout: 20_000, interval: 100 }).toBe(STORY);
    const resumesBefore = sentFrames.filter((f) => f.type === 'resume').length;
    await server.stop('SIGKILL');

    await page.getByTestId('reconnect-banner').waitFor();
    expect(await page.getByTestId('reconnect-banner').innerText()).toContain('Reconnecting');
    await browser.screenshot('reconnecting');
    expect(await seriousA11yViolations(page)).toEqual([]);
    await server.start();
    await page.getByTestId('reconnect-banner').waitFor({ state: 'hidden', timeout: BACK_ONLINE_MS });
    await page.waitForFunction(() => document.body.dataset.busy === 'false' && !document.querySelector('.streaming'));

    const resumes = sentFrames.filter((f) => f.type === 'resume').slice(resumesBefore);
    expect(resumes.length).toBeGreaterThan(0);
    expect(resumes[0]).toMatchObject({ type: 'resume', after_seq: expect.any(Number) });
    expect(resumes[0]!.after_seq).toBeGreaterThan(1);
    expect(await page.getByTestId('assistant-message').count()).toBe(before + 1);
    expect(await lastAnswer(page)).toBe(STORY.trim());
    expect(await page.getByTestId('partial-note').last().innerText()).toContain('Stopped');
    expect(browser.pageErrors).toEqual([]);
  }, RESTART_TEST_MS);
});
