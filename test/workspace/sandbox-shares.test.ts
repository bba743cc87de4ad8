import { rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PythonSandbox, SandboxBusyError } from '../../src/workspace/sandbox/sandbox.js';
import { createWorkspace, type Workspace } from '../../src/workspace/workspace.js';
import { appears, tempDirectory, warnIfSkipped } from './support.js';

const skip = warnIfSkipped('sandbox-shares.test.ts');

/** A run that marks `output/started` and then waits until the test writes `output/go`. */
const GATED = 'import os, time\nopen("output/started", "w").close()\nwhile not os.path.exists("output/go"):\n    time.sleep(0.02)\nprint("done")';

async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((r) => setImmediate(r));
}

describe('fair shares of the sandbox slots', () => {
  let dir: string;
  let workspace: Workspace;
  let counter = 0;
  const newRoot = async () => workspace.create(`chat_${(++counter).toString(16).padStart(12, '0')}`);
  const go = (root: string) => writeFileSync(path.join(root, 'output', 'go'), '');

  beforeAll(() => {
    dir = tempDirectory('pulp-sandbox-shares-');
    workspace = createWorkspace(path.join(dir, 'data'));
  });
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it.skipIf(skip)("another user's print(1) runs while one user's two long runs are still going", async () => {
    // The queue bound only turns a wrong wait into a clear failure; the right answer never queues.
    const sandbox = new PythonSandbox({ maxConcurrent: 2, maxConcurrentPerUser: 1, queueTimeoutMs: 25_000, defaultTimeoutMs: 30_000 });
    const [alice1, alice2, bob] = await Promise.all([newRoot(), newRoot(), newRoot()]);
    // The second run is asked for once the first runs: asked together, either could take the share.
    const first = sandbox.run(GATED, { root: alice1, owner: 'alice' });
    await appears(path.join(alice1, 'output'), 'started');
    const second = sandbox.run(GATED, { root: alice2, owner: 'alice' });
    await until(() => sandbox.stats().waiting === 1);

    const bobs = await sandbox.run('print(1)', { root: bob, owner: 'bob' });
    expect(bobs).toMatchObject({ success: true, stdout: '1\n' });
    // Alice's runs are both unfinished: the first still waits for its go, the second for a share.
    expect(sandbox.stats()).toEqual({ running: 1, waiting: 1 });

    go(alice1);
    await expect(first).resolves.toMatchObject({ success: true, stdout: 'done\n' });
    await appears(path.join(alice2, 'output'), 'started');
    go(alice2);
    await expect(second).resolves.toMatchObject({ success: true, stdout: 'done\n' });
    expect(sandbox.stats()).toEqual({ running: 0, waiting: 0 });
  });

  it.skipIf(skip)("a user's run waiting for their share can be aborted, and gives up with SandboxBusyError after the queue bound", async () => {
    const sandbox = new PythonSandbox({ maxConcurrent: 2, maxConcurrentPerUser: 1, queueTimeoutMs: 1_000, defaultTimeoutMs: 30_000 });
    const [held, waiting] = await Promise.all([newRoot(), newRoot()]);
    const first = sandbox.run(GATED, { root: held, owner: 'carol' });
    await appears(path.join(held, 'output'), 'started');
    const stop = new AbortController();
    const aborted = sandbox.run('print(1)', { root: waiting, owner: 'carol', signal: stop.signal });
    await until(() => sandbox.stats().waiting === 1);
    stop.abort(new Error('user pressed stop'));
    await expect(aborted).rejects.toThrow('user pressed stop');
    await expect(sandbox.run('print(1)', { root: waiting, owner: 'carol' })).rejects.toBeInstanceOf(SandboxBusyError);
    go(held);
    await expect(first).resolves.toMatchObject({ success: true });
    expect(await sandbox.run('print(2)', { root: waiting, owner: 'carol' })).toMatchObject({ stdout: '2\n' });
  });

  it('refuses a per-user share larger than the pool', () => {
    expect(() => new PythonSandbox({ maxConcurrent: 2, maxConcurrentPerUser: 3 })).toThrow(
      new RangeError('maxConcurrentPerUser must be a whole number from 1 to maxConcurrent'),
    );
    expect(() => new PythonSandbox({ maxConcurrent: 1 })).not.toThrow();
  });
});
