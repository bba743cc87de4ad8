import { defineConfig } from 'vitest/config';

/**
 * Browser tests (test/e2e): the built web client in Debian's Chromium against a real Pulp process.
 * One file at a time: each starts a server and a browser, and the machine is small.
 */
export default defineConfig({
  test: {
    include: ['test/e2e/**/*.test.ts'],
    globalSetup: ['test/support/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    fileParallelism: false,
    reporters: process.env.CI ? ['default', ['json', { outputFile: 'reports/e2e.json' }]] : ['default'],
  },
});
