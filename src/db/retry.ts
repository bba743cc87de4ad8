/** Retry with exponential backoff and full jitter for transient database errors. */
import { isTransientError } from './errors.js';

export interface RetryPolicy {
  attempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

export const DB_RETRY: RetryPolicy = { attempts: 3, baseDelayMs: 100, maxDelayMs: 2000 };

/** The wait before retry number `attempt` (1-based): up to base·2^(attempt-1), capped, with jitter. */
export function backoffDelay(policy: RetryPolicy, attempt: number, random: () => number = Math.random): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

/** Runs `fn`, retrying transient failures; other errors and the last failure are rethrown. */
export async function withRetry<T>(
  fn: () => Promise<T>,
  policy: RetryPolicy = DB_RETRY,
  sleep: (ms: number) => Promise<void> = (ms) => new Promise((r) => setTimeout(r, ms)),
  isRetryable: (err: unknown) => boolean = isTransientError,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (attempt >= policy.attempts || !isRetryable(err)) throw err;
      await sleep(backoffDelay(policy, attempt));
    }
  }
}
