/**
 * The counters behind every limit: on the database (as several servers share PostgreSQL; here on
 * the test database, PGlite or PostgreSQL) and in memory.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { AppError } from '../../src/errors/app-error.js';
import { RateLimitStore, type LimitSpec } from '../../src/limits/rate-limits.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';

const spec = (name: string, points: number, windowS = 60): LimitSpec => ({
  name,
  points,
  windowS,
  refuse: (retryAfterS) => new AppError('QUOTA_3201', `wait ${retryAfterS} s`, undefined, { retryAfterS }),
});

async function refusal(p: Promise<unknown>): Promise<AppError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof AppError) return err;
    throw err;
  }
  throw new Error('expected a refusal');
}

describe('counters in the database', () => {
  let database: TestDatabase;
  const stores: RateLimitStore[] = [];
  const store = () => {
    const s = new RateLimitStore({ db: database.db });
    stores.push(s);
    return s;
  };
  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(async () => {
    for (const s of stores) s.close();
    await database?.drop();
  });

  it('count hits of two stores on one database together, as two servers do', async () => {
    const a = store().limit(spec('shared', 3));
    const b = store().limit(spec('shared', 3));
    expect(store().shared).toBe(true);
    await a.hit('user-1');
    await b.hit('user-1');
    await a.hit('user-1');
    const refused = await refusal(b.hit('user-1'));
    expect(refused.code).toBe('QUOTA_3201');
    expect(refused.retryAfterS).toBeGreaterThanOrEqual(1);
    expect(refused.retryAfterS).toBeLessThanOrEqual(60);
    expect(refused.message).toBe(`wait ${refused.retryAfterS} s`);
    // Another key, or another limit with the same key, counts on its own.
    await a.hit('user-2');
    await store().limit(spec('other', 1)).hit('user-1');
  });

  it('prunes counters whose window has passed, and keeps current ones', async () => {
    const s = store();
    await s.limit(spec('prune-short', 5, 1)).hit('k');
    await s.limit(spec('prune-long', 5, 3600)).hit('k');
    const keys = async () =>
      (await database.db.query<{ key: string }>(`SELECT key FROM rate_limits WHERE key LIKE 'prune-%' ORDER BY key`)).rows.map((r) => r.key);
    expect(await keys()).toEqual(['prune-long:k', 'prune-short:k']);
    expect(await s.prune(Date.now() + 2_000)).toBeGreaterThanOrEqual(1);
    expect(await keys()).toEqual(['prune-long:k']);
  });

  it('counts in memory when the database fails, instead of failing the request', async () => {
    const broken = new RateLimitStore({
      db: { ...database.db, query: () => Promise.reject(new Error('connection lost')) },
    });
    stores.push(broken);
    const limit = broken.limit(spec('broken', 1));
    await limit.hit('k');
    expect((await refusal(limit.hit('k'))).code).toBe('QUOTA_3201');
  });
});

describe('counters in memory (one server on PGlite)', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('refuse past the limit until the window ends, then allow again', async () => {
    vi.useFakeTimers({ now: 1_000_000 });
    const s = new RateLimitStore({ db: undefined });
    expect(s.shared).toBe(false);
    const limit = s.limit(spec('mem', 2, 60));
    await limit.hit('k');
    await limit.hit('k');
    vi.advanceTimersByTime(20_500);
    const refused = await refusal(limit.hit('k'));
    expect(refused.retryAfterS).toBe(40);
    vi.advanceTimersByTime(40_000);
    await limit.hit('k');
    expect(await s.prune()).toBe(0);
    s.close();
  });
});
