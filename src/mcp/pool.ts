/**
 * The instance pool of one MCP server. `size` slots each keep one instance running:
 * started at boot, replaced with backoff (1 s doubling to 60 s) when it dies or fails to start.
 * Callers lease an idle instance for one tool call; waiting is FIFO, bounded by
 * `acquireTimeoutMs` and abortable. A failure never throws out of the pool's own loops.
 */
import { EventEmitter } from 'node:events';
import { setImmediate } from 'node:timers/promises';
import type { Logger } from 'pino';
import { backoffDelay, type Clock } from './clock.js';
import type { ServerDefinition } from './config.js';
import { McpLeaseTimeoutError, McpUnavailableError } from './errors.js';
import type { InstanceFactory, McpInstance } from './instance.js';

/** An instance that stayed up this long resets its slot's backoff. */
export const STABLE_AFTER_MS = 60_000;

export interface PoolStats {
  /** Live (connected) instances. */
  total: number;
  /** Live instances not leased. */
  available: number;
  /** Every slot has a live instance. */
  healthy: boolean;
  leased: number;
  waiting: number;
  restarts: number;
}

export interface PoolOptions {
  definition: ServerDefinition;
  size: number;
  acquireTimeoutMs: number;
  factory: InstanceFactory;
  clock: Clock;
  logger: Logger;
  killGraceMs?: number;
  onToolsChanged: () => void;
}

interface Waiter {
  grant(instance: McpInstance): void;
}

/**
 * Events: `ready` (instance) when an instance joins, `exit` (instance) when one dies,
 * `restart` (instance) when a dead one was replaced, `start-failed` (error).
 */
export class ServerPool extends EventEmitter {
  readonly name: string;
  private readonly live = new Set<McpInstance>();
  private readonly idle: McpInstance[] = [];
  private readonly leased = new Set<McpInstance>();
  private readonly waiters: Waiter[] = [];
  private readonly stopping = new AbortController();
  private readonly slots: Promise<void>[] = [];
  private restarts = 0;

  constructor(private readonly options: PoolOptions) {
    super();
    this.name = options.definition.name;
  }

  /**
   * Starts every slot; resolves once each slot's first start has succeeded or failed. Starting a
   * stdio instance blocks the event loop while the child process is spawned (tens of
   * milliseconds in a large process), so the slots are started one event-loop turn apart: requests
   * arriving meanwhile are served between them, not after all of them.
   */
  async start(): Promise<void> {
    const firstAttempts: Promise<void>[] = [];
    for (let i = 0; i < this.options.size; i++) {
      if (i > 0) await setImmediate();
      if (this.stopping.signal.aborted) break;
      let settle!: () => void;
      firstAttempts.push(new Promise((resolve) => (settle = resolve)));
      this.slots.push(this.runSlot(settle));
    }
    await Promise.all(firstAttempts);
  }

  /** Pids of live stdio instances (for diagnostics and tests). */
  pids(): number[] {
    return [...this.live].map((i) => i.pid).filter((p): p is number => p !== null);
  }

  stats(): PoolStats {
    const total = this.live.size;
    return {
      total,
      available: this.idle.length,
      healthy: total === this.options.size,
      leased: this.leased.size,
      waiting: this.waiters.length,
      restarts: this.restarts,
    };
  }

  /**
   * Leases an idle instance, waiting FIFO up to `acquireTimeoutMs`. Rejects with
   * `McpLeaseTimeoutError`, with the signal's reason when it aborts, or `McpUnavailableError`
   * once the pool is closed. Every lease must be given back with `release()`.
   */
  acquire(signal?: AbortSignal): Promise<McpInstance> {
    if (this.stopping.signal.aborted) return Promise.reject(new McpUnavailableError(this.name, 'shutting down'));
    if (signal?.aborted) return Promise.reject(signal.reason as Error);
    const ready = this.idle.shift();
    if (ready) {
      this.leased.add(ready);
      return Promise.resolve(ready);
    }
    return new Promise((resolve, reject) => {
      const cleanup = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        this.stopping.signal.removeEventListener('abort', onStop);
        const index = this.waiters.indexOf(waiter);
        if (index >= 0) this.waiters.splice(index, 1);
      };
      const waiter: Waiter = {
        grant: (instance) => {
          cleanup();
          this.leased.add(instance);
          resolve(instance);
        },
      };
      const onAbort = () => {
        cleanup();
        reject(signal?.reason as Error);
      };
      const onStop = () => {
        cleanup();
        reject(new McpUnavailableError(this.name, 'shutting down'));
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new McpLeaseTimeoutError(this.name, this.options.acquireTimeoutMs));
      }, this.options.acquireTimeoutMs);
      signal?.addEventListener('abort', onAbort, { once: true });
      this.stopping.signal.addEventListener('abort', onStop, { once: true });
      this.waiters.push(waiter);
    });
  }

  /** Gives a leased instance back; a dead one is dropped (its slot replaces it). */
  release(instance: McpInstance): void {
    if (!this.leased.delete(instance)) return;
    if (instance.alive && this.live.has(instance) && !this.stopping.signal.aborted) this.offer(instance);
  }

  /** Stops the slots and closes every instance (children that linger are killed). */
  async close(): Promise<void> {
    this.stopping.abort();
    await Promise.allSettled([...this.live].map((i) => i.close()));
    await Promise.allSettled(this.slots);
  }

  private offer(instance: McpInstance): void {
    const waiter = this.waiters.shift();
    if (waiter) waiter.grant(instance);
    else this.idle.push(instance);
  }

  private forget(instance: McpInstance): void {
    this.live.delete(instance);
    const index = this.idle.indexOf(instance);
    if (index >= 0) this.idle.splice(index, 1);
  }

  private async runSlot(firstAttemptDone: () => void): Promise<void> {
    const { clock, logger, definition } = this.options;
    const stop = this.stopping.signal;
    let failures = 0;
    let replacing = false;
    while (!stop.aborted) {
      let instance: McpInstance;
      // One controller per attempt: the SDK never removes its abort listeners, and a crash-looping
      // server must not pile them onto the pool's long-lived stop signal.
      const attempt = new AbortController();
      const onStop = () => attempt.abort(stop.reason);
      stop.addEventListener('abort', onStop, { once: true });
      try {
        instance = await this.options.factory(definition, attempt.signal, {
          logger,
          onToolsChanged: this.options.onToolsChanged,
          ...(this.options.killGraceMs !== undefined ? { killGraceMs: this.options.killGraceMs } : {}),
        });
      } catch (err) {
        firstAttemptDone();
        if (stop.aborted) break;
        const delay = backoffDelay(failures++);
        logger.warn({ err: (err as Error).message, retry_in_ms: delay }, 'mcp server instance failed to start');
        this.emit('start-failed', err);
        if (!(await this.pause(delay))) break;
        continue;
      } finally {
        stop.removeEventListener('abort', onStop);
      }
      if (stop.aborted) {
        await instance.close();
        break;
      }
      const upAt = clock.now();
      this.live.add(instance);
      if (replacing) {
        this.restarts++;
        this.emit('restart', instance);
      }
      this.offer(instance);
      this.emit('ready', instance);
      firstAttemptDone();

      await instance.closed;
      this.forget(instance);
      if (stop.aborted) break;
      replacing = true;
      if (clock.now() - upAt >= STABLE_AFTER_MS) failures = 0;
      const delay = backoffDelay(failures++);
      logger.warn({ pid: instance.pid, restart_in_ms: delay }, 'mcp server instance exited; replacing it');
      this.emit('exit', instance);
      if (!(await this.pause(delay))) break;
    }
    firstAttemptDone();
  }

  /** Backoff sleep; false when the pool is stopping. */
  private async pause(ms: number): Promise<boolean> {
    try {
      await this.options.clock.sleep(ms, this.stopping.signal);
      return !this.stopping.signal.aborted;
    } catch {
      return false;
    }
  }
}
