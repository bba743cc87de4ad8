import { lstatSync, mkdirSync, mkdtempSync, readlinkSync, rmSync, symlinkSync, writeFileSync, type Stats } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildBwrapArgs, detectSystemLayout, sandboxEnv, type BwrapPlan } from '../../src/workspace/sandbox/bwrap-args.js';
import { chownTree } from '../../src/workspace/sandbox/chown-tree.js';
import { CappedOutput } from '../../src/workspace/sandbox/capped-output.js';
import { Semaphore } from '../../src/util/semaphore.js';

const plan = (mode: 'user' | 'root'): BwrapPlan => ({
  mode,
  inputDir: '/data/sessions/chat_1/input',
  outputDir: '/data/sessions/chat_1/output',
  runUid: 1_600_000_123,
  memoryBytes: 512 * 1024 * 1024,
  maxProcesses: 64,
  maxFileBytes: 1024,
  tmpBytes: 2048,
  pythonPath: '/usr/bin/python3',
  setprivPath: '/usr/bin/setpriv',
  prlimitPath: '/usr/bin/prlimit',
  env: { PATH: '/usr/bin' },
  system: [{ kind: 'symlink', path: '/lib', target: 'usr/lib' }],
  seccompFd: 3,
  pythonArgs: ['-c', 'pass'],
});

function lstatSafe(p: string): Stats | undefined {
  try {
    return lstatSync(p);
  } catch {
    return undefined;
  }
}

const pairAfter = (args: string[], flag: string, value: string) => args.some((a, i) => a === flag && args[i + 1] === value);

describe('the sandbox command line', () => {
  it('unshares the network, binds input/ read-only and output/ read-write, and limits memory and processes', () => {
    const args = buildBwrapArgs(plan('user'));
    expect(args).toContain('--unshare-all');
    expect(args).toContain('--unshare-user');
    expect(args).toContain('--die-with-parent');
    expect(pairAfter(args, '--ro-bind', '/data/sessions/chat_1/input')).toBe(true);
    expect(pairAfter(args, '--bind', '/data/sessions/chat_1/output')).toBe(true);
    expect(args).not.toContain('/data/sessions/chat_1');
    expect(pairAfter(args, '--chdir', '/workspace')).toBe(true);
    expect(args).toContain('--clearenv');
    expect(args).toContain(`--as=${512 * 1024 * 1024}`);
    expect(args).toContain('--nproc=64');
    expect(args).not.toContain('/usr/bin/setpriv');
    expect(args.slice(-3)).toEqual(['/usr/bin/python3', '-c', 'pass']);
  });

  it('as root, unshares the network without a user namespace and drops to the run uid before Python', () => {
    const args = buildBwrapArgs(plan('root'));
    expect(args).toContain('--unshare-net');
    expect(args).not.toContain('--unshare-user');
    const setpriv = args.indexOf('/usr/bin/setpriv');
    expect(setpriv).toBeGreaterThan(args.indexOf('--'));
    expect(args).toContain('--reuid=1600000123');
    expect(args).toContain('--no-new-privs');
    expect(args.indexOf('/usr/bin/prlimit')).toBeGreaterThan(setpriv);
  });

  it('passes only an allow-list of environment variables', () => {
    const env = sandboxEnv({ OPENAI_API_KEY: 'sk-secret', DATABASE_URL: 'postgres://x', OPENBLAS_CORETYPE: 'haswell', HOME: '/root' });
    expect(env.HOME).toBe('/tmp');
    expect(env.OPENBLAS_CORETYPE).toBe('haswell');
    expect(JSON.stringify(env)).not.toContain('sk-secret');
    expect(JSON.stringify(env)).not.toContain('postgres');
  });
});

describe('the sandbox command line, exactly', () => {
  it('in user mode is this argv, mirroring the host system layout and binding nothing else', () => {
    const args = buildBwrapArgs({ ...plan('user'), system: [{ kind: 'symlink', path: '/bin', target: 'usr/bin' }, { kind: 'dir', path: '/lib64' }] });
    const etc = ['alternatives', 'ld.so.cache', 'ld.so.conf', 'ld.so.conf.d', 'fonts', 'matplotlibrc', 'localtime', 'mime.types'].flatMap((n) => ['--ro-bind-try', `/etc/${n}`, `/etc/${n}`]);
    expect(args).toEqual([
      '--unshare-all', '--unshare-user', '--cap-drop', 'ALL',
      '--die-with-parent', '--new-session', '--hostname', 'sandbox',
      '--seccomp', '3',
      '--ro-bind', '/usr', '/usr',
      '--symlink', 'usr/bin', '/bin',
      '--ro-bind', '/lib64', '/lib64',
      '--perms', '0755', '--dir', '/etc', ...etc,
      '--proc', '/proc', '--dev', '/dev',
      '--perms', '1777', '--size', '2048', '--tmpfs', '/tmp',
      '--perms', '0755', '--dir', '/workspace',
      '--ro-bind', '/data/sessions/chat_1/input', '/workspace/input',
      '--bind', '/data/sessions/chat_1/output', '/workspace/output',
      '--chdir', '/workspace', '--clearenv',
      '--setenv', 'PATH', '/usr/bin',
      '--',
      '/usr/bin/prlimit', `--as=${512 * 1024 * 1024}`, '--nproc=64', '--fsize=1024', '--core=0', '--',
      '/usr/bin/python3', '-c', 'pass',
    ]);
  });

  it('mirrors every top-level system folder this host has, as the link or folder it is', () => {
    const layout = detectSystemLayout();
    for (const p of ['/bin', '/sbin', '/lib', '/lib32', '/lib64', '/libx32']) {
      const stat = lstatSafe(p);
      const entry = layout.find((e) => e.path === p);
      if (!stat) expect(entry).toBeUndefined();
      else if (stat.isSymbolicLink()) expect(entry).toEqual({ kind: 'symlink', path: p, target: readlinkSync(p) });
      else expect(entry).toEqual({ kind: 'dir', path: p });
    }
  });

  it('sets exactly this environment, adding only non-empty OpenBLAS CPU hints from the host', () => {
    const fixed = {
      PATH: '/usr/local/bin:/usr/bin:/bin',
      HOME: '/tmp',
      LANG: 'C.UTF-8',
      LC_ALL: 'C.UTF-8',
      MPLBACKEND: 'Agg',
      MPLCONFIGDIR: '/tmp/.matplotlib',
      PYTHONDONTWRITEBYTECODE: '1',
      PYTHONUNBUFFERED: '1',
      PYTHONIOENCODING: 'utf-8',
      OPENBLAS_NUM_THREADS: '1',
      OMP_NUM_THREADS: '1',
      MKL_NUM_THREADS: '1',
    };
    expect(sandboxEnv({ PATH: '/root/bin', OPENBLAS_L2_SIZE: '' })).toEqual(fixed);
    expect(sandboxEnv({ OPENBLAS_CORETYPE: 'haswell', OPENBLAS_L2_SIZE: '512k' })).toEqual({ ...fixed, OPENBLAS_CORETYPE: 'haswell', OPENBLAS_L2_SIZE: '512k' });
  });
});

describe('capped output', () => {
  it('keeps everything under the cap', () => {
    const out = new CappedOutput(1024);
    out.push(Buffer.from('hello '));
    out.push(Buffer.from('world'));
    expect(out.text()).toBe('hello world');
    expect(out.truncated).toBe(false);
  });

  it('over the cap keeps the head and the tail within the cap, saying how much was cut', () => {
    const out = new CappedOutput(1024);
    out.push(Buffer.from('H'.repeat(700)));
    out.push(Buffer.from('m'.repeat(5000)));
    out.push(Buffer.from('T'.repeat(10) + 'END'));
    const text = out.text();
    expect(Buffer.byteLength(text)).toBeLessThanOrEqual(1024);
    expect(text.startsWith('HHHH')).toBe(true);
    expect(text.endsWith('TTTTTTTTTTEND')).toBe(true);
    expect(text).toMatch(/\d+ bytes of output cut/);
  });
});

describe('capped output, byte for byte', () => {
  it('keeps exactly the cap, and past it the head share, a note of the cut bytes and the newest tail', () => {
    // cap 1024: 128 bytes kept for the note, then 672 bytes of head and 224 of tail.
    const out = new CappedOutput(1024);
    out.push(Buffer.from('a'.repeat(1024)));
    expect(out.truncated).toBe(false);
    expect(out.text()).toBe('a'.repeat(1024));
    out.push(Buffer.from('b'));
    expect(out.text()).toBe(`${'a'.repeat(672)}\n[... 129 bytes of output cut (limit 1024 bytes) ...]\n${'a'.repeat(223)}b`);
    out.push(Buffer.from('c'.repeat(10)));
    expect(out.text()).toBe(`${'a'.repeat(672)}\n[... 139 bytes of output cut (limit 1024 bytes) ...]\n${'a'.repeat(213)}b${'c'.repeat(10)}`);
    expect(out.totalBytes).toBe(1035);
  });
});

describe('the concurrency gate', () => {
  it('lets two holders in, queues the rest in order, and hands a freed slot to the next waiter', async () => {
    const gate = new Semaphore(2);
    const one = await gate.acquire();
    const two = await gate.acquire();
    const order: number[] = [];
    const three = gate.acquire().then((release) => (order.push(3), release));
    const four = gate.acquire().then((release) => (order.push(4), release));
    expect(gate.waiting).toBe(2);
    one();
    one(); // Releasing twice frees one slot, not two.
    const releaseThree = await three;
    expect(order).toEqual([3]);
    expect(gate.running).toBe(2);
    two();
    (await four)();
    releaseThree();
    expect({ running: gate.running, waiting: gate.waiting }).toEqual({ running: 0, waiting: 0 });
  });

  it('a waiter whose signal aborts leaves the queue with the abort reason', async () => {
    const gate = new Semaphore(1);
    const held = await gate.acquire();
    const controller = new AbortController();
    const waiting = gate.acquire(controller.signal);
    expect(gate.waiting).toBe(1);
    controller.abort(new Error('gave up'));
    await expect(waiting).rejects.toThrow('gave up');
    expect(gate.waiting).toBe(0);
    held();
    expect(gate.running).toBe(0);
  });
  it('needs a whole number of at least one slot', () => {
    for (const bad of [0, -1, 1.5, Number.NaN]) expect(() => new Semaphore(bad)).toThrow(new RangeError('Semaphore max must be a whole number ≥ 1'));
    expect(new Semaphore(1).max).toBe(1);
  });
});

describe('handing a session folder to the run uid', () => {
  it.skipIf(process.getuid?.() !== 0)('changes the owner of everything below, at any depth, but never follows a link out', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'pulp-chown-'));
    const outside = mkdtempSync(path.join(tmpdir(), 'pulp-chown-outside-'));
    try {
      mkdirSync(path.join(dir, 'a', 'b'), { recursive: true });
      writeFileSync(path.join(dir, 'top.txt'), 't');
      writeFileSync(path.join(dir, 'a', 'b', 'deep.txt'), 'd');
      writeFileSync(path.join(outside, 'host.txt'), 'h');
      symlinkSync(path.join(outside, 'host.txt'), path.join(dir, 'a', 'link'));
      await chownTree(dir, 1_600_000_001, 1_600_000_002);
      for (const rel of ['.', 'top.txt', 'a', 'a/b', 'a/b/deep.txt', 'a/link']) {
        const stat = lstatSync(path.join(dir, rel));
        expect([stat.uid, stat.gid], rel).toEqual([1_600_000_001, 1_600_000_002]);
      }
      expect(lstatSync(path.join(outside, 'host.txt')).uid).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
      rmSync(outside, { recursive: true, force: true });
    }
  });
});
