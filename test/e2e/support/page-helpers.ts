/** What the browser tests do on the chat screen again and again: send, wait for the answer, read it, check accessibility. */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Page } from 'playwright-core';

const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/** The text of the last assistant answer, without the "stopped" note. */
export async function lastAnswer(page: Page): Promise<string> {
  return page.locator('[data-testid=assistant-message] .markdown').last().innerText();
}

export async function connected(page: Page): Promise<void> {
  await page.waitForFunction(() => document.querySelector('[data-testid=connection-status]')?.textContent === 'Connected');
}

/** The turn ended and the stored history shown after it is in place (the transcript is not busy). */
export async function waitForTurnEnd(page: Page): Promise<void> {
  await page.waitForFunction(
    () =>
      document.body.dataset.busy === 'false' &&
      document.querySelector('[data-testid=connection-status]')?.textContent === 'Connected' &&
      document.querySelector('#transcript[aria-busy=true]') === null,
  );
}

export async function send(page: Page, text: string): Promise<void> {
  await page.getByTestId('composer').fill(text);
  await page.getByTestId('composer').press('Enter');
}

/** Waits until the answer after the first `before` ones has more than `words` words. */
export async function waitForAnswerWords(page: Page, before: number, words: number): Promise<void> {
  await page.waitForFunction(
    ([n, w]) => {
      const answers = document.querySelectorAll('[data-testid=assistant-message]');
      return answers.length > n && (answers[answers.length - 1]?.textContent ?? '').split(/\s+/).length > w;
    },
    [before, words] as const,
  );
}

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  targets: string[];
}

/**
 * Runs axe-core in the page (evaluated over the DevTools protocol, so the page's CSP does not
 * apply) and answers the serious and critical violations.
 */
export async function seriousA11yViolations(page: Page): Promise<AxeViolation[]> {
  await page.evaluate(AXE_SOURCE);
  return page.evaluate(async () => {
    interface AxeResult {
      violations: Array<{ id: string; impact: string | null; help: string; nodes: Array<{ target: string[] }> }>;
    }
    const axe = (window as unknown as { axe: { run(context: Document, options: object): Promise<AxeResult> } }).axe;
    const result = await axe.run(document, { resultTypes: ['violations'] });
    return result.violations
      .filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map((v) => ({ id: v.id, impact: v.impact, help: v.help, targets: v.nodes.map((n) => n.target.join(' ')) }));
  });
}
