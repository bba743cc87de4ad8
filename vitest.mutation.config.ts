/**
 * The tests Stryker runs against each mutant (`npm run test:mutation`): those that exercise the
 * mutated modules (chat, context, sessions, auth, workspace) in this process, plus test/http (the
 * REST contract and error answers every route goes through). Tests that start the compiled
 * server as a child process (test/process, test/cluster) or drive a browser (test/e2e) run
 * unmutated code (dist/) and cannot kill a mutant, so they are left out here (they still run in
 * `npm test`). No global setup: the template databases are kept between runs (PostgreSQL's and
 * PGlite's tarballs), and the first file that misses one makes it (test/support/database.ts).
 */
import { defineConfig } from 'vitest/config';
import { BaseSequencer, type TestSpecification } from 'vitest/node';
import { LoadFailuresAsTestFailures } from './test/support/mutation-load-failures.js';

/**
 * Shortest files first (vitest's default runs the longest first). Stryker stops a mutant's run at
 * the first failing test, so a mutant a quick unit test kills never waits for a server to start.
 */
class ShortestFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    return (await super.sort(files)).reverse();
  }
}

export default defineConfig({
  test: {
    include: ['test/{auth,chat,context,sessions,workspace,http}/**/*.test.ts'],
    // Stryker runs each mutant's files in one fresh worker; sharing it across those files loads
    // the dependencies (the Agents SDK, the tokenizer, Fastify) once a mutant instead of once a
    // file. A fresh worker per mutant still re-evaluates every module, so static mutants apply.
    isolate: false,
    // No execArgv: Stryker's runner uses worker threads, which refuse V8 flags such as the
    // integration project's --wasm-lazy-compilation.
    setupFiles: ['test/support/mutation-setup-coverage.ts'],
    reporters: ['default', new LoadFailuresAsTestFailures()],
    // A mutant that makes a test wait forever should fail that test quickly (the slowest test here
    // takes 2.4 s with the machine busy), not run into Stryker's own timeout (twice the test's time
    // plus 10 s plus the dry run's setup overhead), which also restarts the test runner.
    testTimeout: 5_000,
    hookTimeout: 15_000,
    sequence: { sequencer: ShortestFirst },
  },
});
