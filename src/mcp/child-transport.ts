/**
 * A stdio MCP transport that owns its child process: an allow-listed environment, stderr read
 * line by line into the log (bounded), the child in its own process group so a server started
 * through a wrapper (npx, sh) leaves no grandchildren behind, and a close that ends stdin, then
 * sends SIGTERM, then SIGKILL to the whole group, within `killGraceMs`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { getDefaultEnvironment } from '@modelcontextprotocol/sdk/client/stdio.js';
import { ReadBuffer, serializeMessage } from '@modelcontextprotocol/sdk/shared/stdio.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import type { Logger } from 'pino';

/** Shutdown bound: children still alive after this are killed. */
export const KILL_GRACE_MS = 5_000;
/** Longest stderr line kept in the log; the rest is cut. */
const MAX_STDERR_LINE = 2_000;
/** One JSON-RPC message may not exceed this (the SDK's own default). */
const MAX_MESSAGE_BYTES = 10 * 1024 * 1024;
/** After the final SIGKILL, how long to wait for the group's processes to be gone, and how often to look. */
const GROUP_EXIT_WAIT_MS = 2_000;
const GROUP_POLL_MS = 20;

export interface ChildTransportOptions {
  command: string;
  args: string[];
  /** Added to the allow-listed environment (HOME, PATH, USER, …); never the whole server env. */
  env: Record<string, string>;
  cwd?: string;
  logger: Logger;
  killGraceMs?: number;
}

export class ChildProcessTransport implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: (message: JSONRPCMessage) => void;

  private child: ChildProcess | undefined;
  private readonly readBuffer = new ReadBuffer({ maxBufferSize: MAX_MESSAGE_BYTES });
  private exitPromise: Promise<void> | undefined;
  private exited = false;
  private closedNotified = false;

  constructor(private readonly options: ChildTransportOptions) {}

  get pid(): number | null {
    return this.child?.pid ?? null;
  }

  get alive(): boolean {
    return this.child !== undefined && !this.exited;
  }

  start(): Promise<void> {
    if (this.child) throw new Error('ChildProcessTransport already started');
    const { command, args, env, cwd, logger } = this.options;
    const child = spawn(command, args, {
      env: { ...getDefaultEnvironment(), ...env },
      cwd,
      stdio: ['pipe', 'pipe', 'pipe'],
      shell: false,
      // Its own process group, so close() can signal every process the server started.
      detached: process.platform !== 'win32',
      windowsHide: true,
    });
    this.child = child;
    this.exitPromise = new Promise((resolve) => {
      child.once('exit', () => resolve());
      child.once('error', () => resolve());
    });
    void this.exitPromise.then(() => {
      this.exited = true;
      this.notifyClosed();
    });

    child.stdout?.on('data', (chunk: Buffer) => {
      try {
        this.readBuffer.append(chunk);
        for (let message = this.readBuffer.readMessage(); message; message = this.readBuffer.readMessage()) {
          this.onmessage?.(message);
        }
      } catch (err) {
        this.onerror?.(err instanceof Error ? err : new Error(String(err)));
      }
    });
    let pending = '';
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (text: string) => {
      pending += text;
      const lines = pending.split('\n');
      pending = (lines.pop() ?? '').slice(-MAX_STDERR_LINE);
      for (const line of lines) {
        if (line.trim()) logger.debug({ pid: child.pid, stderr: line.slice(0, MAX_STDERR_LINE) }, 'mcp server stderr');
      }
    });
    // Pipe errors (EPIPE after the child died) surface through 'exit'; they must not crash us.
    child.stdin?.on('error', (err) => this.onerror?.(err));
    child.stdout?.on('error', (err) => this.onerror?.(err));
    child.stderr?.on('error', () => undefined);

    return new Promise((resolve, reject) => {
      child.once('spawn', () => resolve());
      child.once('error', (err) => reject(err));
    });
  }

  send(message: JSONRPCMessage): Promise<void> {
    const stdin = this.child?.stdin;
    if (!stdin || this.exited || !stdin.writable) return Promise.reject(new Error('Not connected'));
    return new Promise((resolve, reject) => {
      stdin.write(serializeMessage(message), (err) => (err ? reject(err) : resolve()));
    });
  }

  /** Ends stdin, then SIGTERM at half the grace, then SIGKILL to the process group; waits for the exit. */
  async close(): Promise<void> {
    const child = this.child;
    if (!child || !this.exitPromise) return;
    const grace = this.options.killGraceMs ?? KILL_GRACE_MS;
    if (!this.exited) {
      child.stdin?.end();
      if (!(await this.waitExit(grace / 2))) {
        this.signalGroup('SIGTERM');
        if (!(await this.waitExit(grace / 2))) {
          this.signalGroup('SIGKILL');
          await this.waitExit(grace);
        }
      }
    }
    // The leader is gone; anything it started in its group goes too, and we wait until it has.
    if (this.signalGroup('SIGKILL')) {
      const deadline = Date.now() + GROUP_EXIT_WAIT_MS;
      while (Date.now() < deadline && this.signalGroup(0)) await sleep(GROUP_POLL_MS);
    }
    this.readBuffer.clear();
    this.notifyClosed();
  }

  private waitExit(ms: number): Promise<boolean> {
    if (this.exited || !this.exitPromise) return Promise.resolve(true);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), ms);
    });
    return Promise.race([this.exitPromise.then(() => true), timeout]).finally(() => clearTimeout(timer));
  }

  /** Signals the child's process group (0 = only test for it); false when the group is gone. */
  private signalGroup(signal: NodeJS.Signals | 0): boolean {
    const pid = this.child?.pid;
    if (pid === undefined) return false;
    try {
      if (process.platform === 'win32') return this.child?.kill(signal) ?? false;
      process.kill(-pid, signal);
      return true;
    } catch {
      // ESRCH: the group is already gone.
      return false;
    }
  }

  private notifyClosed(): void {
    if (this.closedNotified) return;
    this.closedNotified = true;
    this.onclose?.();
  }
}
