/** The per-IP limit on login, register, refresh and single sign-on (`AUTH_RATE_LIMIT_PER_MIN`). */
import { AppError } from '../errors/app-error.js';
import type { RateLimit, RateLimitStore } from './rate-limits.js';

export function authAttemptLimit(store: RateLimitStore, perMinute: number): RateLimit {
  return store.limit({
    name: 'auth_ip',
    points: perMinute,
    windowS: 60,
    refuse: (retryAfterS) => new AppError('AUTH_1007', `Too many attempts; try again in ${retryAfterS} s.`, undefined, { retryAfterS }),
  });
}
