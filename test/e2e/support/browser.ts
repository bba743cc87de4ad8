/**
 * Debian's Chromium driven by playwright-core: never a downloaded browser, a fresh profile per
 * launch, and screenshots of the main screens under test-results/screenshots/.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM_PATH = '/usr/bin/chromium';
export const SCREENSHOT_DIR = path.resolve(import.meta.dirname, '../../../test-results/screenshots');
/** Every browser wait in the e2e tests is bounded by this. */
export const UI_TIMEOUT_MS = 20_000;

/** Why the browser tests cannot run here, or null when they can. */
export function browserSkipReason(): string | null {
  return existsSync(CHROMIUM_PATH) ? null : `${CHROMIUM_PATH} is missing: browser tests skipped (install Debian's chromium package to run them)`;
}

export interface TestBrowser {
  context: BrowserContext;
  page: Page;
  /** Uncaught exceptions in the page: a test asserts there were none. */
  pageErrors: string[];
  /** Console errors (failed loads, refused sockets): a test decides which it expects. */
  consoleErrors: string[];
  screenshot(name: string): Promise<void>;
  close(): Promise<void>;
}

export async function launchBrowser(): Promise<TestBrowser> {
  const profile = mkdtempSync(path.join(tmpdir(), 'pulp-chromium-'));
  // launchPersistentContext passes `profile` as --user-data-dir: a fresh one per launch.
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    viewport: { width: 1280, height: 800 },
    timeout: UI_TIMEOUT_MS * 3,
  });
  context.setDefaultTimeout(UI_TIMEOUT_MS);
  const page = context.pages()[0] ?? (await context.newPage());
  const pageErrors: string[] = [];
  const consoleErrors: string[] = [];
  page.on('pageerror', (err) => pageErrors.push(err.message));
  page.on('console', (msg) => {
    if (msg.type() === 'error') consoleErrors.push(msg.text());
  });
  return {
    context,
    page,
    pageErrors,
    consoleErrors,
    async screenshot(name) {
      mkdirSync(SCREENSHOT_DIR, { recursive: true });
      await page.screenshot({ path: path.join(SCREENSHOT_DIR, `${name}.png`), fullPage: true });
    },
    async close() {
      try {
        await context.close();
      } finally {
        rmSync(profile, { recursive: true, force: true });
      }
    },
  };
}
