/**
 * `npm run test:unit`: the tests that need no server, no database and no child process — pure
 * modules and the disk jail. Seconds instead of minutes; `npm test` still runs them with the rest.
 */
import { defineConfig } from 'vitest/config';

export const UNIT_TESTS = [
  'test/chat/{cancellation,connections,context-repair,resume,resume-gate,stream-mapper,turn-coordinator,turn-emitter,turn-end,turn-helpers}.test.ts',
  'test/cluster/wire.test.ts',
  'test/db/data-dir-lock.test.ts',
  'test/config/config.test.ts',
  'test/context/{budget,model-windows,summarizer,summary-plan,title,tokens,turn-hooks}.test.ts',
  'test/llm/offline-model.test.ts',
  'test/mcp/{html-to-text,tool-names}.test.ts',
  'test/util/serial-queue.test.ts',
  'test/workspace/{jail,sandbox-parts,text-helpers}.test.ts',
];

export default defineConfig({
  test: {
    include: UNIT_TESTS,
    testTimeout: 30_000,
    pool: 'forks',
  },
});
