/**
 * The clock the pool uses for restart backoff, injected so tests can step through backoff delays
 * without real waits.
 */
import { setTimeout as sleep } from 'node:timers/promises';

export interface Clock {
  now(): number;
  /** Resolves after `ms`, or rejects with the signal's reason when it aborts first. */
  sleep(ms: number, signal: AbortSignal): Promise<void>;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms, signal) => sleep(ms, undefined, { signal }),
};

/** Restart backoff: 1 s doubling to 60 s. */
export const BACKOFF_BASE_MS = 1_000;
export const BACKOFF_MAX_MS = 60_000;

/** Delay before restart attempt `failures` (0 = first attempt after a death). */
export function backoffDelay(failures: number): number {
  return Math.min(BACKOFF_BASE_MS * 2 ** Math.min(failures, 16), BACKOFF_MAX_MS);
}
