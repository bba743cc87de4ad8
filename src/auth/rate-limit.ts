/** A fixed-window counter per key (client IP): login, register and refresh allow 10 a minute. */
import { AppError } from '../errors/app-error.js';

export class RateLimiter {
  private readonly windows = new Map<string, { start: number; count: number }>();
  constructor(
    private readonly limit: number,
    private readonly windowMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Counts one attempt for `key`; throws AUTH_1007 (429) past the limit. */
  hit(key: string): void {
    const t = this.now();
    let w = this.windows.get(key);
    if (!w || t - w.start >= this.windowMs) {
      if (this.windows.size > 10_000) this.prune(t);
      w = { start: t, count: 0 };
      this.windows.set(key, w);
    }
    w.count++;
    if (w.count > this.limit) {
      const retryS = Math.ceil((w.start + this.windowMs - t) / 1000);
      throw new AppError('AUTH_1007', `Too many attempts; try again in ${retryS} s.`);
    }
  }

  private prune(t: number): void {
    for (const [key, w] of this.windows) if (t - w.start >= this.windowMs) this.windows.delete(key);
  }
}
