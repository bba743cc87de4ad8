/**
 * The code interpreter's sandbox: runs Python in a fresh bubblewrap sandbox per call,
 * at most `maxConcurrent` at once and `maxConcurrentPerUser` of one user (the rest wait, abortably,
 * up to `queueTimeoutMs`), with a wall
 * time limit, memory and process limits, and stdout/stderr cut to 64 KB. There is no unsandboxed
 * fallback: when bwrap or python3 cannot run, `available()` is false and `run` refuses.
 */
import { spawn } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Writable } from 'node:stream';
import { z } from 'zod';
import { mediaTypeFor } from '../content-type.js';
import { changedFiles, snapshotFiles, type FileStamp } from '../snapshot.js';
import { buildBwrapArgs, detectSystemLayout, sandboxEnv, type SystemEntry } from './bwrap-args.js';
import { CappedOutput, OUTPUT_CAP_BYTES } from './capped-output.js';
import { chownTree } from './chown-tree.js';
import { RUNNER_SOURCE } from './runner.js';
import { buildSeccompFilter } from './seccomp-filter.js';
import { hostSandboxArch } from './syscall-numbers.js';
import { Semaphore } from '../../util/semaphore.js';

export const SandboxFileSchema = z.object({ name: z.string(), path: z.string(), size: z.number().int(), type: z.string() });
export const SandboxResultSchema = z.object({
  success: z.boolean(),
  stdout: z.string(),
  stderr: z.string(),
  exit_code: z.number().int().nullable(),
  files: z.array(SandboxFileSchema),
  execution_time_ms: z.number().int(),
});
export type SandboxResult = z.infer<typeof SandboxResultSchema>;

/** The code interpreter cannot run on this machine (no bwrap, no python3, or they fail). */
export class SandboxUnavailableError extends Error {
  override name = this.constructor.name;
}
/** Every sandbox slot stayed busy for longer than the queue bound. */
export class SandboxBusyError extends Error {
  override name = this.constructor.name;
}

export const DEFAULT_TIMEOUT_MS = 60_000;
export const DEFAULT_MEMORY_MB = 512;
export const DEFAULT_MAX_CONCURRENT = 2;
/** Below the pool, so one user's long runs always leave a slot for everybody else. */
export const DEFAULT_MAX_CONCURRENT_PER_USER = 1;
export const DEFAULT_QUEUE_TIMEOUT_MS = 120_000;
export const DEFAULT_MAX_PROCESSES = 64;
/** After SIGKILL the pipes close as soon as the kernel tears the namespace down; never wait longer. */
const KILL_GRACE_MS = 2_000;
const PROBE_TIMEOUT_MS = 20_000;
const MAX_CODE_BYTES = 1024 * 1024;
/** Uids for root-mode runs: a fresh one per run, far above any real account. */
const RUN_UID_MIN = 1_500_000_000;
const RUN_UID_SPAN = 400_000_000;
/** The child's descriptor that carries the seccomp program to bwrap (0–2 are stdio). */
const SECCOMP_FD = 3;

export interface SandboxOptions {
  bwrapPath?: string;
  /** Must live under /usr: only /usr is visible in the sandbox. */
  pythonPath?: string;
  setprivPath?: string;
  prlimitPath?: string;
  maxConcurrent?: number;
  /** Runs one owner may have holding slots at once; at most `maxConcurrent` (throws otherwise). */
  maxConcurrentPerUser?: number;
  queueTimeoutMs?: number;
  defaultTimeoutMs?: number;
  defaultMemoryMb?: number;
  maxProcesses?: number;
  /** Largest single file the code may write (RLIMIT_FSIZE). */
  maxFileBytes?: number;
  /** Size of the private /tmp. */
  tmpBytes?: number;
}

export interface RunOptions {
  /** The session directory (holds `input/` and `output/`). */
  root: string;
  /** Whose run this is (a user id): the per-user share applies to runs with the same owner. */
  owner?: string;
  signal?: AbortSignal;
  timeoutMs?: number;
  memoryMb?: number;
  /** Called with the bwrap pid once it started (logs, tests). */
  onStart?: (pid: number) => void;
}

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export class PythonSandbox {
  private readonly slots: Semaphore;
  /** One run per session at a time: runs of one session share output/ (and, as root, its owner). */
  private readonly sessionLocks = new Map<string, Semaphore>();
  /** Each owner's share of the slots, so one user's long runs cannot hold all of them. */
  private readonly ownerShares = new Map<string, Semaphore>();
  private readonly opts: Required<SandboxOptions>;
  private readonly system: SystemEntry[];
  /** The seccomp program for this host, or undefined on an architecture the filter does not know. */
  private readonly seccomp: Buffer | undefined;
  private probe: Promise<boolean> | undefined;
  private unavailableReason = 'not probed yet';

  constructor(options: SandboxOptions = {}) {
    this.opts = {
      bwrapPath: options.bwrapPath ?? '/usr/bin/bwrap',
      pythonPath: options.pythonPath ?? '/usr/bin/python3',
      setprivPath: options.setprivPath ?? '/usr/bin/setpriv',
      prlimitPath: options.prlimitPath ?? '/usr/bin/prlimit',
      maxConcurrent: options.maxConcurrent ?? DEFAULT_MAX_CONCURRENT,
      maxConcurrentPerUser: options.maxConcurrentPerUser ?? Math.min(DEFAULT_MAX_CONCURRENT_PER_USER, options.maxConcurrent ?? DEFAULT_MAX_CONCURRENT),
      queueTimeoutMs: options.queueTimeoutMs ?? DEFAULT_QUEUE_TIMEOUT_MS,
      defaultTimeoutMs: options.defaultTimeoutMs ?? DEFAULT_TIMEOUT_MS,
      defaultMemoryMb: options.defaultMemoryMb ?? DEFAULT_MEMORY_MB,
      maxProcesses: options.maxProcesses ?? DEFAULT_MAX_PROCESSES,
      maxFileBytes: options.maxFileBytes ?? 256 * 1024 * 1024,
      tmpBytes: options.tmpBytes ?? 64 * 1024 * 1024,
    };
    if (!this.opts.pythonPath.startsWith('/usr/')) throw new RangeError('pythonPath must be under /usr (only /usr is visible in the sandbox)');
    this.slots = new Semaphore(this.opts.maxConcurrent);
    const perUser = this.opts.maxConcurrentPerUser;
    if (!Number.isInteger(perUser) || perUser < 1 || perUser > this.opts.maxConcurrent) {
      throw new RangeError('maxConcurrentPerUser must be a whole number from 1 to maxConcurrent');
    }
    this.system = detectSystemLayout();
    const arch = hostSandboxArch();
    this.seccomp = arch ? buildSeccompFilter(arch) : undefined;
  }

  /** Sandboxes running now, and runs waiting for a slot or for their user's share. */
  stats(): { running: number; waiting: number } {
    let waitingForShare = 0;
    for (const share of this.ownerShares.values()) waitingForShare += share.waiting;
    return { running: this.slots.running, waiting: this.slots.waiting + waitingForShare };
  }

  /** Why `available()` said no (for logs and /health). */
  get reason(): string {
    return this.unavailableReason;
  }

  /** Whether bwrap and python3 really run here: probed once by running a trivial program in the sandbox. */
  available(): Promise<boolean> {
    return (this.probe ??= this.runProbe());
  }

  private async runProbe(): Promise<boolean> {
    if (process.platform !== 'linux') {
      this.unavailableReason = 'the sandbox needs Linux namespaces';
      return false;
    }
    if (!this.seccomp) {
      this.unavailableReason = `the sandbox has no system call filter for ${process.arch}`;
      return false;
    }
    const needed = [this.opts.bwrapPath, this.opts.pythonPath, this.opts.prlimitPath, ...(isRoot() ? [this.opts.setprivPath] : [])];
    for (const file of needed) {
      try {
        await fs.access(file, fs.constants.X_OK);
      } catch {
        this.unavailableReason = `${path.basename(file)} is not installed (${file})`;
        return false;
      }
    }
    const scratch = await fs.mkdtemp(path.join(tmpdir(), 'pulp-sandbox-probe-'));
    try {
      await Promise.all(['input', 'output'].map((d) => fs.mkdir(path.join(scratch, d), { mode: 0o755 })));
      const result = await this.execute('print(6 * 7)', { root: scratch, timeoutMs: PROBE_TIMEOUT_MS }, true);
      if (result.success && result.stdout.trim() === '42') {
        this.unavailableReason = '';
        return true;
      }
      this.unavailableReason = `the sandbox test run failed: ${(result.stderr || result.stdout).trim().slice(0, 300)}`;
      return false;
    } catch (err) {
      this.unavailableReason = `the sandbox test run failed: ${err instanceof Error ? err.message : String(err)}`;
      return false;
    } finally {
      await fs.rm(scratch, { recursive: true, force: true });
    }
  }

  /**
   * Runs `code` in a fresh sandbox over `root`. Resolves with the result (a failing program or a
   * time-out is a result with `success: false`); rejects with `signal.reason` when aborted (the
   * sandbox is killed first), `SandboxBusyError` after waiting too long for a slot, and
   * `SandboxUnavailableError` when the sandbox cannot run here.
   */
  async run(code: string, options: RunOptions): Promise<SandboxResult> {
    if (!(await this.available())) throw new SandboxUnavailableError(`The code interpreter is not available: ${this.unavailableReason}.`);
    if (Buffer.byteLength(code) > MAX_CODE_BYTES) throw new RangeError(`The code is larger than ${MAX_CODE_BYTES} bytes.`);
    const queue = new AbortController();
    const timer = setTimeout(() => queue.abort(new SandboxBusyError('Every sandbox stayed busy; try again shortly.')), this.opts.queueTimeoutMs);
    const waitSignal = options.signal ? AbortSignal.any([options.signal, queue.signal]) : queue.signal;
    const key = await fs.realpath(options.root);
    const lock = this.sessionLocks.get(key) ?? new Semaphore(1);
    this.sessionLocks.set(key, lock);
    let releaseSession: (() => void) | undefined;
    let releaseShare: (() => void) | undefined;
    let releaseSlot: (() => void) | undefined;
    try {
      // The session, then the owner's share, then a slot: a run waiting for either of the first
      // two holds no slot, so another user's run takes the free one.
      releaseSession = await lock.acquire(waitSignal);
      // Looked up right when acquired: a share nobody holds or waits for is dropped from the map.
      if (options.owner !== undefined) releaseShare = await this.shareOf(options.owner).acquire(waitSignal);
      releaseSlot = await this.slots.acquire(waitSignal);
      clearTimeout(timer);
      return await this.execute(code, options, false);
    } catch (err) {
      // A queue time-out while the caller also aborted is the caller's abort.
      if (options.signal?.aborted) throw options.signal.reason;
      throw err;
    } finally {
      clearTimeout(timer);
      releaseSlot?.();
      releaseShare?.();
      releaseSession?.();
      if (lock.running === 0 && lock.waiting === 0) this.sessionLocks.delete(key);
      const owner = options.owner;
      const share = owner === undefined ? undefined : this.ownerShares.get(owner);
      if (owner !== undefined && share && share.running === 0 && share.waiting === 0) this.ownerShares.delete(owner);
    }
  }

  private shareOf(owner: string): Semaphore {
    let share = this.ownerShares.get(owner);
    if (!share) {
      share = new Semaphore(this.opts.maxConcurrentPerUser);
      this.ownerShares.set(owner, share);
    }
    return share;
  }

  private async execute(code: string, options: RunOptions, probing: boolean): Promise<SandboxResult> {
    const { signal } = options;
    signal?.throwIfAborted();
    const rootReal = await fs.realpath(options.root);
    const inputDir = path.join(rootReal, 'input');
    const outputDir = path.join(rootReal, 'output');
    for (const dir of [inputDir, outputDir]) {
      await fs.mkdir(dir, { recursive: true, mode: 0o755 });
      if (!(await fs.lstat(dir)).isDirectory()) throw new Error(`${path.basename(dir)}/ is not a folder`);
    }
    const before = probing ? new Map<string, FileStamp>() : await snapshotFiles(outputDir);
    const root = isRoot();
    const runUid = root ? RUN_UID_MIN + randomInt(RUN_UID_SPAN) : process.getuid?.() ?? 0;
    const args = buildBwrapArgs({
      mode: root ? 'root' : 'user',
      inputDir,
      outputDir,
      runUid,
      memoryBytes: (options.memoryMb ?? this.opts.defaultMemoryMb) * 1024 * 1024,
      maxProcesses: this.opts.maxProcesses,
      maxFileBytes: this.opts.maxFileBytes,
      tmpBytes: this.opts.tmpBytes,
      pythonPath: this.opts.pythonPath,
      setprivPath: this.opts.setprivPath,
      prlimitPath: this.opts.prlimitPath,
      env: sandboxEnv(process.env),
      system: this.system,
      seccompFd: SECCOMP_FD,
      pythonArgs: ['-c', RUNNER_SOURCE],
    });
    const timeoutMs = options.timeoutMs ?? this.opts.defaultTimeoutMs;
    // As root the run gets its own uid: it must own output/ to write and input/ to read.
    if (root) await Promise.all([chownTree(inputDir, runUid, runUid), chownTree(outputDir, runUid, runUid)]);
    const started = performance.now();
    let exit: Exit;
    let timedOut = false;
    const stdout = new CappedOutput(OUTPUT_CAP_BYTES);
    const stderr = new CappedOutput(OUTPUT_CAP_BYTES);
    try {
      exit = await this.spawnAndWait(args, code, { stdout, stderr, timeoutMs, signal, onStart: options.onStart, onTimeout: () => (timedOut = true) });
    } finally {
      if (root) {
        const uid = process.getuid?.() ?? 0;
        const gid = process.getgid?.() ?? 0;
        await Promise.all([chownTree(inputDir, uid, gid), chownTree(outputDir, uid, gid)]);
      }
    }
    const executionMs = Math.round(performance.now() - started);
    if (signal?.aborted) throw signal.reason;
    const after = probing ? new Map<string, FileStamp>() : await snapshotFiles(outputDir);
    const files = changedFiles(before, after).map((rel) => ({
      name: path.posix.basename(rel),
      path: `output/${rel}`,
      size: after.get(rel)?.size ?? 0,
      type: mediaTypeFor(rel),
    }));
    let stderrText = stderr.text();
    if (timedOut) stderrText += `${stderrText && !stderrText.endsWith('\n') ? '\n' : ''}Execution stopped: the time limit of ${Math.round(timeoutMs / 100) / 10} s was reached.`;
    const exitCode = exit.code ?? (exit.signal ? 128 + signalNumber(exit.signal) : null);
    return {
      success: !timedOut && exit.code === 0,
      stdout: stdout.text(),
      stderr: stderrText,
      exit_code: exitCode,
      files,
      execution_time_ms: executionMs,
    };
  }

  private spawnAndWait(
    args: string[],
    code: string,
    io: { stdout: CappedOutput; stderr: CappedOutput; timeoutMs: number; signal: AbortSignal | undefined; onStart: ((pid: number) => void) | undefined; onTimeout: () => void },
  ): Promise<Exit> {
    return new Promise<Exit>((resolve, reject) => {
      // detached: bwrap leads its own process group, so one kill reaches everything it started.
      const child = spawn(this.opts.bwrapPath, args, { stdio: ['pipe', 'pipe', 'pipe', 'pipe'], detached: true, env: {} });
      let settled = false;
      let graceTimer: NodeJS.Timeout | undefined;
      const kill = () => {
        if (child.pid !== undefined) {
          try {
            process.kill(-child.pid, 'SIGKILL');
          } catch {
            child.kill('SIGKILL');
          }
        }
        // The pipes close once the namespace is gone; if they do not, stop waiting anyway.
        graceTimer ??= setTimeout(() => finish({ code: null, signal: 'SIGKILL' }), KILL_GRACE_MS);
      };
      const timer = setTimeout(() => {
        io.onTimeout();
        kill();
      }, io.timeoutMs);
      const onAbort = () => kill();
      const finish = (exit: Exit, error?: Error) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (graceTimer) clearTimeout(graceTimer);
        io.signal?.removeEventListener('abort', onAbort);
        if (error) reject(error);
        else resolve(exit);
      };
      io.signal?.addEventListener('abort', onAbort, { once: true });
      child.once('error', (err) => finish({ code: null, signal: null }, err));
      child.stdout.on('data', (chunk: Buffer) => io.stdout.push(chunk));
      child.stderr.on('data', (chunk: Buffer) => io.stderr.push(chunk));
      child.once('close', (code, signal) => finish({ code, signal }));
      if (child.pid !== undefined) io.onStart?.(child.pid);
      // A program that exits before reading all its code closes stdin early: not an error.
      child.stdin.on('error', () => undefined);
      child.stdin.end(code);
      // bwrap reads the filter to the end of the pipe before it starts anything.
      const seccompPipe = child.stdio[SECCOMP_FD] as Writable | null;
      seccompPipe?.on('error', () => undefined);
      seccompPipe?.end(this.seccomp);
    });
  }
}

function isRoot(): boolean {
  return process.getuid?.() === 0;
}

function signalNumber(signal: NodeJS.Signals): number {
  const numbers: Partial<Record<NodeJS.Signals, number>> = { SIGKILL: 9, SIGTERM: 15, SIGSEGV: 11, SIGABRT: 6, SIGXFSZ: 25, SIGXCPU: 24 };
  return numbers[signal] ?? 0;
}
