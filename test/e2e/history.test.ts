/**
 * What a chat shows when it is opened again: the model's reasoning stays with its answer,
 * collapsed, after a reload; a chat of 2 000 messages opens with its newest page only, loads
 * older pages as the reader scrolls up, and still sends. The long chat's figures (DOM nodes,
 * time to open) go to test-results/long-chat.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { startFakeOpenAI, type FakeOpenAI } from '../support/fake-openai.js';
import { dataDirWithoutBuiltins, fakeModelEnv } from '../support/pulp-process.js';
import { browserSkipReason, launchBrowser, SCREENSHOT_DIR, type TestBrowser } from './support/browser.js';
import { lastAnswer, seriousA11yViolations, send, waitForTurnEnd } from './support/page-helpers.js';
import { startServerForBrowser, type BrowserTestServer } from './support/pulp-server.js';

const skipReason = browserSkipReason();
if (skipReason) process.stdout.write(`${skipReason}\n`);

const REASONING = 'The user asks about pulp. Pulp is the soft part of a fruit;\nanswer in one sentence.';
const ANSWER = 'Pulp is the soft, juicy part of a fruit.';
const LONG_CHAT_MESSAGES = 2_000;
/** Stopping the server, writing 2 000 rows and starting it again takes a while on a busy machine. */
const LONG_CHAT_TEST_MS = 150_000;
/** The newest page the client asks for when it opens a chat. */
const FIRST_PAGE = 100;

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

  it('opens a chat of 2 000 messages with its newest page, loads older ones on scroll-up, and still sends', async () => {
    const created = await fetch(`${server.baseUrl}/api/v1/sessions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ title: 'A long chat' }) });
    const { session_id: sessionId, id } = (await created.json()) as { session_id: string; id: string };
    // Stored the way turns store them: alternate questions and answers with a few lines of markdown each.
    await server.withDatabaseStopped(async (db) => {
      await db.query(
        `INSERT INTO messages (session_id, seq, role, content)
         SELECT $1, g, CASE WHEN g % 2 = 1 THEN 'user' ELSE 'assistant' END,
                CASE WHEN g % 2 = 1 THEN 'Question ' || g ELSE 'Answer ' || g || E'\n\n- a **point**\n- another with \`code\`' END
         FROM generate_series(1, $2::int) g`,
        [id, LONG_CHAT_MESSAGES],
      );
      // One path: each row follows the one before it, and the newest is the active leaf.
      await db.query(
        `UPDATE messages m SET parent_id = p.prev FROM (SELECT id, LAG(id) OVER (ORDER BY seq) AS prev FROM messages WHERE session_id = $1) p
         WHERE m.id = p.id AND p.prev IS NOT NULL`,
        [id],
      );
      await db.query(
        'UPDATE sessions SET message_count = $2, active_leaf_id = (SELECT id FROM messages WHERE session_id = $1 ORDER BY seq DESC LIMIT 1) WHERE id = $1',
        [id, LONG_CHAT_MESSAGES],
      );
    });

    await page.goto(`${server.baseUrl}/#${sessionId}`);
    await page.reload();
    const rows = page.locator('#transcript > li');
    await page.getByTestId('user-message').filter({ hasText: `Question ${LONG_CHAT_MESSAGES - 1}` }).waitFor();
    const opened = await page.evaluate(() => ({
      ms: Math.round(performance.now()),
      domNodes: document.getElementsByTagName('*').length,
    }));
    expect(await rows.count()).toBe(FIRST_PAGE);
    expect(await rows.first().innerText()).toContain(`Question ${LONG_CHAT_MESSAGES - FIRST_PAGE + 1}`);

    // Scrolling to the top loads the page before; what the reader looked at stays in view.
    const scroller = page.locator('.scroller');
    const firstShown = rows.first();
    await scroller.evaluate((el) => (el.scrollTop = 0));
    await page.waitForFunction((n) => document.querySelectorAll('#transcript > li').length >= n, 2 * FIRST_PAGE);
    expect(await rows.first().innerText()).toContain(`Question ${LONG_CHAT_MESSAGES - 2 * FIRST_PAGE + 1}`);
    expect(await firstShown.isVisible()).toBe(true);
    const inView = await page.getByTestId('user-message').filter({ hasText: new RegExp(`Question ${LONG_CHAT_MESSAGES - FIRST_PAGE + 1}$`) }).evaluate((el) => {
      const box = el.getBoundingClientRect();
      const view = el.closest('.scroller')!.getBoundingClientRect();
      return box.bottom > view.top && box.top < view.bottom;
    });
    expect(inView).toBe(true);
    // The button stays for keyboard users, and loads the next older page too.
    await page.getByTestId('load-earlier').click();
    await page.waitForFunction((n) => document.querySelectorAll('#transcript > li').length >= n, 3 * FIRST_PAGE);

    await send(page, 'Still there?');
    await page.getByTestId('user-message').filter({ hasText: 'Still there?' }).waitFor();
    await waitForTurnEnd(page);
    expect(await lastAnswer(page)).toBe(ANSWER);
    expect(await page.getByTestId('user-message').last().innerText()).toContain('Still there?');

    mkdirSync(path.dirname(SCREENSHOT_DIR), { recursive: true });
    const figures = { messages: LONG_CHAT_MESSAGES, rowsShown: FIRST_PAGE, domNodesAtOpen: opened.domNodes, msFromNavigationToNewestShown: opened.ms };
    writeFileSync(path.join(path.dirname(SCREENSHOT_DIR), 'long-chat.json'), `${JSON.stringify(figures, null, 2)}\n`);
    expect(opened.domNodes).toBeLessThan(5_000);
    expect(browser.pageErrors).toEqual([]);
  }, LONG_CHAT_TEST_MS);
});
