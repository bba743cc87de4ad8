/**
 * The load generators of the concurrency scenarios as child processes of their own (the fake model,
 * the WebSocket clients), so the server's CPU is measured apart from theirs; and what /proc says
 * about any child: CPU time and resident memory.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';

const ROOT = path.resolve(import.meta.dirname, '..');
/** Linux clock ticks per second (USER_HZ); 100 on every mainstream kernel. */
const TICKS_PER_S = 100;

/** utime + stime of process `pid` so far, in microseconds (10 ms resolution). */
export function cpuMicrosOf(pid: number): number {
  // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) / TICKS_PER_S) * 1e6;
}

/** Resident memory of process `pid` (VmRSS), in bytes. */
export function rssBytesOf(pid: number): number {
  const match = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(match?.[1] ?? Number.NaN) * 1024;
}

/** A bench script run as `node --import tsx <file>`, talking in JSON lines on stdin/stdout. */
export interface BenchChild {
  readonly pid: number;
  /** The next JSON line it prints (its log lines go to stderr, passed through). */
  next<T>(): Promise<T>;
  /** Writes one JSON line to its stdin. */
  tell(message: unknown): void;
  stop(): Promise<void>;
}

export function spawnBenchChild(file: string, args: readonly string[] = []): BenchChild {
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'bench', file), ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp' },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const lines: string[] = [];
  const waiters: Array<{ resolve: (l: string) => void; reject: (e: Error) => void }> = [];
  const exited = once(child, 'exit').then(([code, signal]) => (code ?? signal) as number | string);
  createInterface({ input: child.stdout! }).on('line', (line) => {
    const waiter = waiters.shift();
    if (waiter) waiter.resolve(line);
    else lines.push(line);
  });
  void exited.then((code) => {
    for (const w of waiters.splice(0)) w.reject(new Error(`bench/${file} exited (${code}) before answering`));
  });
  return {
    pid: child.pid!,
    async next<T>() {
      const line = lines.shift() ?? (await new Promise<string>((resolve, reject) => waiters.push({ resolve, reject })));
      return JSON.parse(line) as T;
    },
    tell(message) {
      child.stdin!.write(`${JSON.stringify(message)}\n`);
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

/** For a child script: its stdin as JSON messages, one at a time. */
export function parentMessages(): () => Promise<unknown> {
  const queued: unknown[] = [];
  const waiters: Array<(m: unknown) => void> = [];
  createInterface({ input: process.stdin }).on('line', (line) => {
    const message: unknown = JSON.parse(line);
    const waiter = waiters.shift();
    if (waiter) waiter(message);
    else queued.push(message);
  });
  process.stdin.on('end', () => process.exit(0));
  return () => (queued.length > 0 ? Promise.resolve(queued.shift()) : new Promise((resolve) => waiters.push(resolve)));
}

/** For a child script: one JSON line to the parent. */
export function toParent(message: unknown): void {
  process.stdout.write(`${JSON.stringify(message)}\n`);
}
