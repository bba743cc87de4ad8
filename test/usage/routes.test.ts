/**
 * The usage reports and budget settings over HTTP, on a real server with accounts: each user reads
 * only their own usage, administrators read everyone's and set budgets; ranges and groupings are
 * validated. Ledger rows are written with the ledger's own statement, then dated where a test
 * needs several days.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordCall } from '../../src/usage/ledger.js';
import { pricesFor } from '../../src/usage/prices.js';
import { apiClient } from '../support/api.js';
import { startTestServer, type TestServer } from '../support/server.js';

const SECRET = 'usage-test-secret-that-is-at-least-32-chars';
const PRICES = { 'gpt-4o-mini': { input: 0.15, output: 0.6 } };

let server: TestServer;
type Account = { id: string; api: ReturnType<typeof apiClient> };
let root: Account;
let ada: Account;
let bob: Account;
let adaSession: { id: string; uuid: string };
let goneSession: { id: string; uuid: string };

async function register(email: string): Promise<Account> {
  const res = await apiClient(server.baseUrl)('POST', '/auth/register', { email, password: 'password123', display_name: email.split('@')[0] });
  expect(res.status).toBe(201);
  return { id: res.body.user.id as string, api: apiClient(server.baseUrl, res.body.access_token as string) };
}

async function newSession(account: Account, title: string): Promise<{ id: string; uuid: string }> {
  const res = await account.api('POST', '/sessions', { title });
  expect(res.status).toBe(201);
  const { rows } = await server.database.db.query<{ id: string }>('SELECT id FROM sessions WHERE session_id = $1', [res.body.session_id]);
  return { id: res.body.session_id as string, uuid: rows[0]!.id };
}

/** One recorded call, dated `daysAgo` days back (noon UTC) when given. */
async function call(user: Account, opts: { session?: string; model?: string; input: number; output: number; purpose?: 'turn' | 'title'; daysAgo?: number }) {
  const model = opts.model ?? 'gpt-4o-mini';
  await recordCall(server.database.db, {
    call: { userId: user.id, sessionUuid: opts.session ?? null, turnId: null, purpose: opts.purpose ?? 'turn' },
    model,
    provider: 'openai',
    usage: { inputTokens: opts.input, cachedInputTokens: 0, outputTokens: opts.output, reasoningTokens: 0 },
    prices: pricesFor(PRICES, model),
  });
  if (opts.daysAgo !== undefined) {
    await server.database.db.query(
      `UPDATE model_calls SET created_at = date_trunc('day', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' - make_interval(days => $1) + interval '12 hours'
       WHERE id = (SELECT max(id) FROM model_calls)`,
      [opts.daysAgo],
    );
  }
}

const utcDay = (daysAgo: number) => new Date(Date.now() - daysAgo * 86_400_000).toISOString().slice(0, 10);

beforeAll(async () => {
  server = await startTestServer({
    AUTH_MODE: 'jwt',
    JWT_SECRET: SECRET,
    AUTH_RATE_LIMIT_PER_MIN: '1000',
    ALLOW_REGISTRATION: 'true',
    MODELS: 'offline,gpt-4o-mini',
    MODEL_PRICES: JSON.stringify(PRICES),
    QUOTA_TOKENS_PER_DAY: '100000',
  });
  root = await register('root@example.com');
  ada = await register('ada@example.com');
  bob = await register('bob@example.com');
  adaSession = await newSession(ada, 'Ada’s chat');
  goneSession = await newSession(ada, 'Deleted later');
  // Ada: 3 calls today (two models, one deleted session), 1 call 3 days ago, 1 call 40 days ago.
  await call(ada, { session: adaSession.uuid, input: 1_000, output: 200 });
  await call(ada, { session: adaSession.uuid, input: 100, output: 10, purpose: 'title', model: 'offline' });
  await call(ada, { session: goneSession.uuid, input: 500, output: 50 });
  await call(ada, { session: adaSession.uuid, input: 2_000, output: 100, daysAgo: 3 });
  await call(ada, { input: 9_999, output: 1, daysAgo: 40 });
  // Bob: one large call today.
  await call(bob, { input: 50_000, output: 5_000 });
  expect((await ada.api('DELETE', `/sessions/${goneSession.id}`)).status).toBe(200);
});
afterAll(() => server?.close());

describe('GET /usage (one’s own)', () => {
  it('totals the last 30 days by default, grouped by UTC day, with costs of priced models and the unpriced calls counted', async () => {
    const res = await ada.api('GET', '/usage');
    expect(res.status).toBe(200);
    expect(res.body.group_by).toBe('day');
    expect(Date.parse(res.body.to) - Date.parse(res.body.from)).toBe(30 * 86_400_000);
    // 1 000/200 + 100/10 + 500/50 today, 2 000/100 three days ago; the 40-day-old call is outside.
    expect(res.body.totals).toEqual({
      calls: 4,
      input_tokens: 3_600,
      cached_input_tokens: 0,
      output_tokens: 360,
      reasoning_tokens: 0,
      total_tokens: 3_960,
      // (3 500 × 0.15 + 350 × 0.6) / 10⁶ for the gpt-4o-mini calls; the offline title has no price.
      cost: 0.000735,
      unpriced_calls: 1,
    });
    expect(res.body.groups.map((g: { key: string; calls: number; total_tokens: number }) => [g.key, g.calls, g.total_tokens])).toEqual([
      [utcDay(3), 1, 2_100],
      [utcDay(0), 3, 1_860],
    ]);
  });

  it('groups by model and by session (a deleted session’s calls under null), largest first', async () => {
    const byModel = await ada.api('GET', '/usage?group_by=model');
    expect(byModel.body.groups.map((g: { key: string; total_tokens: number; cost: number | null }) => [g.key, g.total_tokens, g.cost])).toEqual([
      ['gpt-4o-mini', 3_850, 0.000735],
      ['offline', 110, null],
    ]);
    const bySession = await ada.api('GET', '/usage?group_by=session');
    expect(bySession.body.groups.map((g: { key: string | null; label: string | null; total_tokens: number }) => [g.key, g.label, g.total_tokens])).toEqual([
      [adaSession.id, 'Ada’s chat', 3_410],
      [null, null, 550],
    ]);
  });

  it('takes a range: dates are whole UTC days, both included', async () => {
    const res = await ada.api('GET', `/usage?from=${utcDay(45)}&to=${utcDay(3)}`);
    expect(res.body.from).toBe(`${utcDay(45)}T00:00:00.000Z`);
    expect(res.body.totals).toMatchObject({ calls: 2, total_tokens: 12_100 });
    const instant = await ada.api('GET', `/usage?from=${utcDay(1)}T00:00:00Z&to=${new Date(Date.now() + 60_000).toISOString()}`);
    expect(instant.body.totals.calls).toBe(3);
  });

  it('never shows another user’s usage', async () => {
    const res = await bob.api('GET', '/usage?group_by=session');
    expect(res.body.totals).toMatchObject({ calls: 1, total_tokens: 55_000 });
    expect(JSON.stringify(res.body)).not.toContain(adaSession.id);
    expect((await apiClient(server.baseUrl)('GET', '/usage')).status).toBe(401);
  });

  it('refuses bad parameters with VAL_2001 naming the field', async () => {
    for (const [query, field] of [
      ['?group_by=user', 'group_by'],
      ['?from=yesterday', 'from'],
      ['?to=2026-13-45', 'to'],
      [`?from=${utcDay(0)}&to=${utcDay(2)}`, 'from'],
      ['?from=2020-01-01&to=2026-01-01', 'to'],
      ['?limit=0', 'limit'],
      ['?colour=red', 'colour'],
    ] as const) {
      const res = await ada.api('GET', `/usage${query}`);
      expect(res.status, query).toBe(422);
      expect(res.body.error.code, query).toBe('VAL_2001');
      expect(JSON.stringify(res.body.error.details ?? res.body.error.message), query).toContain(field);
    }
  });

  it('shows the user’s budget: limits, what was used today and this month, and when each resets', async () => {
    const res = await bob.api('GET', '/usage');
    expect(res.body.budget.limits).toEqual({ tokens_per_day: 100_000, tokens_per_month: null, cost_per_day: null, cost_per_month: null });
    expect(res.body.budget.used).toMatchObject({ day_tokens: 55_000, month_tokens: 55_000 });
    expect(res.body.budget.used.day_cost).toBeCloseTo(0.0105, 10);
    expect(res.body.budget.resets.day).toBe(`${utcDay(-1)}T00:00:00.000Z`);
    expect(res.body.budget.resets.month).toMatch(/^\d{4}-\d{2}-01T00:00:00\.000Z$/);
  });
});

describe('GET /admin/usage and budgets per user', () => {
  it('shows administrators everyone’s usage by user (with emails), model or day', async () => {
    const res = await root.api('GET', '/admin/usage');
    expect(res.status).toBe(200);
    expect(res.body.group_by).toBe('user');
    expect(res.body.groups.map((g: { key: string; label: string; total_tokens: number }) => [g.key, g.label, g.total_tokens])).toEqual([
      [bob.id, 'bob@example.com', 55_000],
      [ada.id, 'ada@example.com', 3_960],
    ]);
    expect(res.body.totals.total_tokens).toBe(58_960);
    const byModel = await root.api('GET', '/admin/usage?group_by=model&limit=1');
    expect(byModel.body.groups).toHaveLength(1);
    expect(byModel.body.has_more).toBe(true);
    expect((await root.api('GET', '/admin/usage?group_by=session')).status).toBe(422);
  });

  it('refuses it to everyone else with 403 AUTH_1004 and no data', async () => {
    const res = await ada.api('GET', '/admin/usage');
    expect(res.status).toBe(403);
    expect(res.body.error.code).toBe('AUTH_1004');
    expect(JSON.stringify(res.body)).not.toContain('bob@example.com');
    const patch = await ada.api('PATCH', `/admin/users/${ada.id}`, { quota: { tokens_per_day: null } });
    expect(patch.status).toBe(403);
  });

  it('an administrator overrides a user’s budgets; the user list and the user see them, and the user is refused by them', async () => {
    const set = await root.api('PATCH', `/admin/users/${bob.id}`, { quota: { tokens_per_day: null, cost_per_month: 0.01 } });
    expect(set.status).toBe(200);
    expect(set.body.quota).toEqual({ tokens_per_day: null, cost_per_month: 0.01 });
    expect(set.body.budgets).toEqual({ tokens_per_day: null, tokens_per_month: null, cost_per_day: null, cost_per_month: 0.01 });
    const listed = await root.api('GET', '/admin/users?q=bob');
    expect(listed.body.users[0]).toMatchObject({ email: 'bob@example.com', quota: { tokens_per_day: null, cost_per_month: 0.01 } });
    expect((await root.api('GET', '/admin/users?q=ada')).body.users[0].budgets.tokens_per_day).toBe(100_000);
    expect((await bob.api('GET', '/usage')).body.budget.limits).toMatchObject({ tokens_per_day: null, cost_per_month: 0.01 });

    for (const quota of [{ tokens_per_day: -1 }, { tokens_per_day: 1.5 }, { tokens_per_week: 5 }, { cost_per_day: '1' }]) {
      const bad = await root.api('PATCH', `/admin/users/${bob.id}`, { quota });
      expect(bad.status, JSON.stringify(quota)).toBe(422);
      expect(bad.body.error.code).toBe('VAL_2001');
    }
    const reset = await root.api('PATCH', `/admin/users/${bob.id}`, { quota: {} });
    expect(reset.body.budgets.tokens_per_day).toBe(100_000);
  });
});
