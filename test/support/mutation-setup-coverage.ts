/**
 * Mutation runs only (`vitest.mutation.config.ts`): credits the code a test file runs outside its
 * tests — `beforeAll` setup (building the app, creating the database, registering users), the
 * time between tests, `afterAll` teardown — to that file's tests, instead of to no test at all.
 *
 * Why: Stryker's vitest runner records coverage per test from `beforeEach` to `afterEach`, and
 * counts everything else as "static". A static mutant is run against every related test file,
 * start to end — here that made a mutant in a route handler that a `beforeAll` happens to call
 * cost a whole suite run, and such mutants were half of all mutants. Setup code's effects can
 * only be observed by the tests of the file that ran it (every file has its own database and
 * server), so running those tests is exactly the test Stryker's static mode performs, narrowed
 * to the files that can tell. A kill is still a real test failing with the mutant active.
 * Code run while modules load stays static: Stryker still runs those mutants against everything.
 *
 * Outside Stryker's dry run (a mutant run, or plain vitest) this file does nothing.
 */
import { afterAll, beforeAll, inject } from 'vitest';

interface StrykerCoverage {
  static: Record<string, number>;
  perTest: Record<string, Record<string, number>>;
}
interface StrykerNamespace {
  currentTestId?: string;
  mutantCoverage?: StrykerCoverage;
}
interface TaskLike {
  name: string;
  type: string;
  mode?: string;
  result?: unknown;
  suite?: TaskLike;
  file?: { filepath: string };
  tasks?: TaskLike[];
}

/** Stryker's own test id (`@stryker-mutator/vitest-runner` test-helpers): file path, '#', the names joined. */
function strykerTestId(test: TaskLike): string {
  const names = [test.name];
  for (let suite = test.suite; suite; suite = suite.suite) names.unshift(suite.name);
  return `${test.file?.filepath ?? 'unknown.js'}#${names.join(' ').trim()}`;
}

function testsOf(suite: TaskLike): TaskLike[] {
  return (suite.tasks ?? []).flatMap((task) => (task.type === 'suite' ? testsOf(task) : task.type === 'test' ? [task] : []));
}

// `mode` is provided by Stryker's runner only; plain vitest has no such key.
const mode = (inject as (key: string) => unknown)('mode');

if (mode === 'dry-run') {
  const holder = globalThis as { __stryker__?: StrykerNamespace };
  const ns = (holder.__stryker__ ??= {});
  let currentTest: string | undefined;
  let fileSlot: string | undefined;
  // Stryker sets the id in beforeEach and clears it in afterEach; between tests the file's slot applies.
  Object.defineProperty(ns, 'currentTestId', {
    configurable: true,
    enumerable: true,
    get: () => currentTest ?? fileSlot,
    set: (id: string | undefined) => {
      currentTest = id;
    },
  });

  // eslint-disable-next-line no-empty-pattern -- vitest passes the suite as the second argument only
  beforeAll(({}, suite) => {
    const file = suite as TaskLike & { filepath?: string };
    fileSlot = `pulp-file-setup:${file.file?.filepath ?? file.filepath ?? 'unknown'}`;
  });

  // Runs after the file's own afterAll (hooks run as a stack) and before Stryker's, which reads the coverage.
  // eslint-disable-next-line no-empty-pattern -- as above
  afterAll(({}, suite) => {
    const slot = fileSlot;
    fileSlot = undefined;
    const coverage = ns.mutantCoverage;
    const setup = slot && coverage?.perTest[slot];
    if (!slot || !coverage || !setup) return;
    delete coverage.perTest[slot];
    const ran = testsOf(suite as TaskLike).filter((test) => test.mode !== 'skip' && test.mode !== 'todo' && test.result);
    if (ran.length === 0) {
      for (const [mutant, hits] of Object.entries(setup)) coverage.static[mutant] = (coverage.static[mutant] ?? 0) + hits;
      return;
    }
    for (const test of ran) {
      const perTest = (coverage.perTest[strykerTestId(test)] ??= {});
      for (const [mutant, hits] of Object.entries(setup)) perTest[mutant] = (perTest[mutant] ?? 0) + hits;
    }
  });
}
