/**
 * Mutation runs only (`vitest.mutation.config.ts`): a test file that cannot even load its modules
 * counts as a failing test.
 *
 * Why: some mutants make a module throw while it loads (a zod discriminated union whose option
 * lost its `type`, say). Every test file importing it then fails before any test is collected;
 * plain vitest reports those files as failed, but Stryker's vitest runner only reads test results,
 * finds none, and counts the mutant as "survived" with 0 tests run. This reporter adds one failed
 * test, "loads its modules", to such a file, carrying the file's error — what `npm test` would
 * show for the same code. Files that loaded are left untouched.
 */
import type { RunnerTestCase as Test, RunnerTestFile as File } from 'vitest';
import type { Reporter, Vitest } from 'vitest/node';

function testsOf(tasks: File['tasks']): Test[] {
  return tasks.flatMap((task) => (task.type === 'suite' ? testsOf(task.tasks) : task.type === 'test' ? [task] : []));
}

export class LoadFailuresAsTestFailures implements Reporter {
  #vitest: Vitest | undefined;

  onInit(vitest: Vitest): void {
    this.#vitest = vitest;
  }

  onTestRunEnd(): void {
    for (const file of this.#vitest?.state.getFiles() ?? []) {
      if (file.result?.state !== 'fail') continue;
      if (testsOf(file.tasks).some((test) => test.result)) continue;
      const failed: Test = {
        type: 'test',
        id: `${file.id}_load`,
        name: 'loads its modules',
        fullName: 'loads its modules',
        fullTestName: 'loads its modules',
        mode: 'run',
        context: undefined as unknown as Test['context'],
        file,
        meta: {},
        annotations: [],
        artifacts: [],
        benchmarks: [],
        timeout: 0,
        result: { state: 'fail', errors: file.result.errors ?? [] },
      };
      file.tasks.push(failed);
    }
  }
}
