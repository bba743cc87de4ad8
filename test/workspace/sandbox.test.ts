import { existsSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RUNNER_SOURCE } from '../../src/workspace/sandbox/runner.js';
import { PythonSandbox, SandboxUnavailableError } from '../../src/workspace/sandbox/sandbox.js';
import { createWorkspace, type Workspace } from '../../src/workspace/workspace.js';
import { appears, tempDirectory, warnIfSkipped } from './support.js';

const skip = warnIfSkipped('sandbox.test.ts');
const runsAsRoot = process.getuid?.() === 0;

/** Yields to the event loop until `condition` holds (no timers involved). */
async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((r) => setImmediate(r));
}

/** Pids of every live descendant of `pid`, from /proc. */
function descendants(pid: number): number[] {
  const parents = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      parents.set(Number(entry), Number(fields[1]));
    } catch {
      // Gone meanwhile.
    }
  }
  const found: number[] = [];
  const walk = (p: number) => {
    for (const [child, parent] of parents) if (parent === p) {
      found.push(child);
      walk(child);
    }
  };
  walk(pid);
  return found;
}

function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

describe('the Python sandbox', () => {
  let dir: string;
  let workspace: Workspace;
  let sandbox: PythonSandbox;
  let counter = 0;
  const newRoot = async () => workspace.create(`chat_${(++counter).toString(16).padStart(12, '0')}`);

  beforeAll(() => {
    dir = tempDirectory('pulp-sandbox-');
    workspace = createWorkspace(path.join(dir, 'data'));
    sandbox = new PythonSandbox({ defaultTimeoutMs: 20_000 });
  });
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('says it is unavailable and refuses to run when bubblewrap is missing, never running code unsandboxed', async () => {
    const missing = new PythonSandbox({ bwrapPath: '/nonexistent/bwrap' });
    expect(await missing.available()).toBe(false);
    expect(missing.reason).toMatch(/bwrap/);
    const root = await newRoot();
    await expect(missing.run('open("output/ran", "w")', { root })).rejects.toBeInstanceOf(SandboxUnavailableError);
    expect(existsSync(path.join(root, 'output', 'ran'))).toBe(false);
  });

  it('says why it cannot run: not probed yet, a missing program by name, or a python outside /usr', async () => {
    const missing = new PythonSandbox({ bwrapPath: '/nonexistent/bwrap' });
    expect(missing.reason).toBe('not probed yet');
    await expect(missing.run('print(1)', { root: await newRoot() })).rejects.toThrow(
      new SandboxUnavailableError('The code interpreter is not available: bwrap is not installed (/nonexistent/bwrap).'),
    );
    expect(() => new PythonSandbox({ pythonPath: '/opt/python3' })).toThrow(new RangeError('pythonPath must be under /usr (only /usr is visible in the sandbox)'));
  });

  it.skipIf(skip)('checks prlimit, and setpriv when it runs as root, before trusting the sandbox', async () => {
    const noPrlimit = new PythonSandbox({ prlimitPath: '/nonexistent/prlimit' });
    expect(await noPrlimit.available()).toBe(false);
    expect(noPrlimit.reason).toBe('prlimit is not installed (/nonexistent/prlimit)');
    const noSetpriv = new PythonSandbox({ setprivPath: '/nonexistent/setpriv' });
    expect(await noSetpriv.available()).toBe(!runsAsRoot);
    expect(noSetpriv.reason).toBe(runsAsRoot ? 'setpriv is not installed (/nonexistent/setpriv)' : '');
  });

  it.skipIf(skip)('is unavailable when its test run does not print 42, quoting what the run said', async () => {
    const echo = new PythonSandbox({ pythonPath: '/usr/bin/echo' });
    expect(await echo.available()).toBe(false);
    expect(echo.reason).toBe(`the sandbox test run failed: ${`-c ${RUNNER_SOURCE}`.trim().slice(0, 300)}`);
    const ls = new PythonSandbox({ pythonPath: '/usr/bin/ls' });
    expect(await ls.available()).toBe(false);
    expect(ls.reason).toMatch(/^the sandbox test run failed: \/usr\/bin\/ls: /);
  });

  it.skipIf(skip)('is available here and runs code with the session as working directory', async () => {
    expect(await sandbox.available()).toBe(true);
    expect(sandbox.reason).toBe('');
    const root = await newRoot();
    writeFileSync(path.join(root, 'input', 'hello.txt'), 'hi from input');
    const result = await sandbox.run('import os\nprint(os.getcwd(), sorted(os.listdir(".")), open("input/hello.txt").read())', { root });
    expect(result).toMatchObject({ success: true, exit_code: 0, stderr: '', files: [] });
    expect(result.stdout.trim()).toBe("/workspace ['input', 'output'] hi from input");
    expect(result.execution_time_ms).toBeGreaterThan(0);
  });

  it.skipIf(skip)('has no network: a port listening on 127.0.0.1 outside cannot be reached', async () => {
    let connections = 0;
    const server = net.createServer((socket) => {
      connections++;
      socket.destroy();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as net.AddressInfo;
    try {
      const root = await newRoot();
      const code = [
        'import socket',
        'print("interfaces", sorted(n for _, n in socket.if_nameindex()))',
        'try:',
        `    socket.create_connection(("127.0.0.1", ${port}), timeout=3)`,
        '    print("CONNECTED")',
        'except OSError as e:',
        '    print("refused", type(e).__name__)',
      ].join('\n');
      const result = await sandbox.run(code, { root });
      expect(result.stdout).toContain('refused');
      expect(result.stdout).not.toContain('CONNECTED');
      expect(result.stdout).toContain("interfaces ['lo']");
      expect(connections).toBe(0);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it.skipIf(skip)('cannot see host files: not the DATA_DIR, other sessions, the project, the home folder or /etc/passwd', async () => {
    const other = await newRoot();
    writeFileSync(path.join(other, 'input', 'secret.txt'), 'other session secret');
    writeFileSync(path.join(dir, 'host-secret.txt'), 'host secret');
    const root = await newRoot();
    const probes = [path.join(dir, 'host-secret.txt'), path.join(other, 'input', 'secret.txt'), path.join(process.cwd(), 'package.json'), '/etc/passwd', '/root', '/home', workspace.sessionsDir];
    const code = [
      'import os, json',
      `paths = ${JSON.stringify(probes)}`,
      'print(json.dumps({"visible": [p for p in paths if os.path.exists(p)], "root": sorted(os.listdir("/"))}))',
    ].join('\n');
    const result = await sandbox.run(code, { root });
    const seen = JSON.parse(result.stdout) as { visible: string[]; root: string[] };
    expect(seen.visible).toEqual([]);
    for (const hidden of ['root', 'home', 'work', 'tmp-host']) expect(seen.root).not.toContain(hidden === 'tmp-host' ? path.basename(dir) : hidden);
    expect(result.stdout).not.toContain('secret');
  });

  it.skipIf(skip)('input/ is read-only while output/ is writable', async () => {
    const root = await newRoot();
    writeFileSync(path.join(root, 'input', 'data.csv'), 'a\n');
    const code = [
      'for target in ["input/data.csv", "input/new.txt"]:',
      '    try:',
      '        open(target, "w").write("changed")',
      '        print("WROTE", target)',
      '    except OSError as e:',
      '        print("denied", target)',
      'open("output/result.txt", "w").write("ok")',
    ].join('\n');
    const result = await sandbox.run(code, { root });
    expect(result.stdout).not.toContain('WROTE');
    expect(result.stdout).toContain('denied input/data.csv');
    expect(readFileSync(path.join(root, 'input', 'data.csv'), 'utf8')).toBe('a\n');
    expect(existsSync(path.join(root, 'input', 'new.txt'))).toBe(false);
    expect(result.files).toEqual([{ name: 'result.txt', path: 'output/result.txt', size: 2, type: 'text/plain' }]);
    expect(readFileSync(path.join(root, 'output', 'result.txt'), 'utf8')).toBe('ok');
  });

  it.skipIf(skip)('refuses code over 1 MiB and a stop that came before the run, starting nothing', async () => {
    const root = await newRoot();
    let starts = 0;
    const onStart = () => starts++;
    await expect(sandbox.run('#'.repeat(1024 * 1024 + 1), { root, onStart })).rejects.toThrow(new RangeError('The code is larger than 1048576 bytes.'));
    const stopped = new AbortController();
    stopped.abort(new Error('stopped already'));
    await expect(sandbox.run('print(1)', { root, onStart, signal: stopped.signal })).rejects.toThrow('stopped already');
    expect(starts).toBe(0);
    expect(await sandbox.run(`${'#'.repeat(1024 * 1024 - 9)}\nprint(1)`, { root })).toMatchObject({ success: true, stdout: '1\n' });
  });

  it.skipIf(skip)('refuses to bind an output/ that was swapped for a link to somewhere else', async () => {
    const root = await newRoot();
    const elsewhere = tempDirectory('pulp-sandbox-elsewhere-');
    rmSync(path.join(root, 'output'), { recursive: true });
    symlinkSync(elsewhere, path.join(root, 'output'));
    await expect(sandbox.run('open("output/x", "w").write("x")', { root })).rejects.toThrow('output/ is not a folder');
    expect(readdirSync(elsewhere)).toEqual([]);
    rmSync(elsewhere, { recursive: true, force: true });
  });

  it.skipIf(skip || !runsAsRoot)('as root, hands input/ and output/ back to the server user after the run', async () => {
    const root = await newRoot();
    writeFileSync(path.join(root, 'input', 'in.txt'), 'i');
    await sandbox.run('import os\nos.makedirs("output/deep")\nopen("output/deep/made.txt", "w").write("m")', { root });
    for (const rel of ['input', 'input/in.txt', 'output', 'output/deep', 'output/deep/made.txt']) {
      expect(statSync(path.join(root, rel)).uid, rel).toBe(process.getuid!());
      expect(statSync(path.join(root, rel)).gid, rel).toBe(process.getgid!());
    }
  });

  it.skipIf(skip)('a time-out note starts on its own line after what the program wrote to stderr', async () => {
    const root = await newRoot();
    const result = await sandbox.run('import sys\nsys.stderr.write("partial")\nsys.stderr.flush()\nwhile True:\n    pass', { root, timeoutMs: 1_000 });
    expect(result.stderr).toBe('partial\nExecution stopped: the time limit of 1 s was reached.');
  });

  it.skipIf(skip)('a time-out of a silent program is the note alone', async () => {
    const quiet = await sandbox.run('while True:\n    pass', { root: await newRoot(), timeoutMs: 1_000 });
    expect(quiet.stderr).toBe('Execution stopped: the time limit of 1 s was reached.');
  });

  it.skipIf(skip)('an infinite loop is stopped at the time limit', async () => {
    const root = await newRoot();
    const started = Date.now();
    const result = await sandbox.run('while True:\n    pass', { root, timeoutMs: 1_500 });
    expect(result.success).toBe(false);
    expect(result.exit_code).toBe(137);
    expect(result.stderr).toMatch(/time limit of 1.5 s/);
    expect(Date.now() - started).toBeLessThan(1_500 + 4_000);
  });

  it.skipIf(skip)('a memory bomb is stopped by the memory limit', async () => {
    const root = await newRoot();
    const result = await sandbox.run('blocks = []\nwhile True:\n    blocks.append(bytearray(16 * 1024 * 1024))', { root, memoryMb: 128 });
    expect(result.success).toBe(false);
    expect(result.stderr).toContain('MemoryError');
  });

  it.skipIf(skip)('a fork bomb is contained by the process limit and ends with the run', async () => {
    const root = await newRoot();
    const counted = await sandbox.run(
      ['import os, time', 'n = 0', 'try:', '    while n < 10000:', '        if os.fork() == 0:', '            time.sleep(60)', '            os._exit(0)', '        n += 1', 'except OSError as e:', '    print("limited at", n)'].join('\n'),
      { root },
    );
    const limitedAt = Number(/limited at (\d+)/.exec(counted.stdout)?.[1]);
    expect(limitedAt).toBeGreaterThan(0);
    expect(limitedAt).toBeLessThan(100);
    // The children were still sleeping: they die with the sandbox, so the run did not wait for them.
    expect(counted.execution_time_ms).toBeLessThan(30_000);

    let bwrapPid = 0;
    const bomb = await sandbox.run('import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass', {
      root,
      timeoutMs: 2_000,
      onStart: (pid) => (bwrapPid = pid),
    });
    expect(bomb.success).toBe(false);
    expect(bomb.stderr).toMatch(/time limit/);
    expect(isAlive(bwrapPid)).toBe(false);
    expect(descendants(bwrapPid)).toEqual([]);
  });

  it.skipIf(skip)('nothing from one run is visible to the next run or to another session', async () => {
    const first = await newRoot();
    const second = await newRoot();
    await sandbox.run('open("/tmp/left-behind", "w").write("x")\nopen("output/mine.txt", "w").write("first")', { root: first });
    const again = await sandbox.run('import os\nprint(os.path.exists("/tmp/left-behind"))', { root: first });
    expect(again.stdout.trim()).toBe('False');
    const other = await sandbox.run('import os\nprint(os.path.exists("/tmp/left-behind"), os.listdir("output"))', { root: second });
    expect(other.stdout.trim()).toBe('False []');
  });

  it.skipIf(skip)('stdout and stderr are each cut to 64 KB, keeping the end of a traceback', async () => {
    const root = await newRoot();
    const result = await sandbox.run('import sys\nsys.stdout.write("o" * 300000)\nsys.stderr.write("e" * 300000)\nraise ValueError("the end")', { root });
    expect(Buffer.byteLength(result.stdout)).toBeLessThanOrEqual(64 * 1024);
    expect(Buffer.byteLength(result.stderr)).toBeLessThanOrEqual(64 * 1024);
    expect(result.stdout).toMatch(/bytes of output cut/);
    expect(result.stderr).toContain('ValueError: the end');
    expect(result.exit_code).toBe(1);
  });

  it.skipIf(skip)('an abort stops the running Python process within 500 ms', async () => {
    const root = await newRoot();
    const output = path.join(root, 'output');
    const ready = appears(output, 'started');
    const controller = new AbortController();
    let bwrapPid = 0;
    const running = sandbox.run('open("output/started", "w").close()\nwhile True:\n    pass', { root, signal: controller.signal, onStart: (pid) => (bwrapPid = pid) });
    const outcome = running.then(
      () => 'resolved',
      (err: unknown) => err,
    );
    await ready;
    const pids = descendants(bwrapPid);
    expect(pids.length).toBeGreaterThan(0);
    const stopAt = performance.now();
    const reason = new Error('user pressed stop');
    controller.abort(reason);
    expect(await outcome).toBe(reason);
    // A killed process finishes exiting asynchronously: count until the last one is gone.
    await until(() => [bwrapPid, ...pids].every((pid) => !isAlive(pid)));
    expect(performance.now() - stopAt).toBeLessThan(500);
  });

  it.skipIf(skip)('at most two sandboxes run at once; a third waits, and a waiting run can be aborted', async () => {
    const gated = new PythonSandbox({ maxConcurrent: 2, defaultTimeoutMs: 20_000 });
    const gate = 'import os, time\nopen("output/started", "w").close()\nwhile not os.path.exists("output/go"):\n    time.sleep(0.02)';
    const roots = await Promise.all([newRoot(), newRoot(), newRoot(), newRoot()]);
    const [a, b, c, d] = roots;
    const started: string[] = [];
    const run = (root: string, signal?: AbortSignal) => gated.run(gate, { root, ...(signal ? { signal } : {}), onStart: () => started.push(root) });
    const go = (root: string) => writeFileSync(path.join(root, 'output', 'go'), '');

    const first = run(a);
    const second = run(b);
    await Promise.all([appears(path.join(a, 'output'), 'started'), appears(path.join(b, 'output'), 'started')]);
    const third = run(c);
    const controller = new AbortController();
    const fourth = run(d, controller.signal);
    await until(() => gated.stats().waiting === 2);
    expect(gated.stats()).toEqual({ running: 2, waiting: 2 });
    expect(started).toEqual(expect.arrayContaining([a, b]));
    expect(started).toHaveLength(2);

    controller.abort(new Error('stop waiting'));
    await expect(fourth).rejects.toThrow('stop waiting');
    expect(gated.stats().waiting).toBe(1);

    go(a);
    await expect(first).resolves.toMatchObject({ success: true });
    await appears(path.join(c, 'output'), 'started');
    go(b);
    go(c);
    await expect(second).resolves.toMatchObject({ success: true });
    await expect(third).resolves.toMatchObject({ success: true });
    expect(started).not.toContain(d);
    expect(gated.stats()).toEqual({ running: 0, waiting: 0 });
  });
});
