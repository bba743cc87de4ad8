/**
 * The ledger's writes and the budget check's read: one statement each, shared by the calls made meanwhile. A call's row and its
 * user's daily running total are written together, so the check never sums more than a month of
 * days, and every server of a cluster reads the same truth.
 */
import type { Queryable } from '../db/database.js';
import type { ModelCall, ReportedUsage } from './model-call.js';
import type { CallPrices } from './prices.js';
import { KeyedReads } from '../db/keyed-reads.js';
import { SharedStatement } from '../db/shared-statement.js';

/**
 * The calls recorded meanwhile, in one statement: each call's row with its cost in USD from its
 * prices (numeric arithmetic; reasoning ⊆ output, cached ⊆ input; null without a price), then
 * each user's day raised by the sum of their calls — one user's many calls are one upsert, since
 * a statement may not update a row twice. Answers each call's cost, in order.
 */
const RECORD_MANY_SQL = `
WITH v AS (
  SELECT r.*, CASE WHEN r.p_input IS NULL THEN NULL ELSE (
      GREATEST(r.input - r.cached, 0) * r.p_input + LEAST(r.cached, r.input) * r.p_cached
    + GREATEST(r.output - r.reasoning, 0) * r.p_output + LEAST(r.reasoning, r.output) * r.p_reasoning
    ) / 1000000 END AS cost
  FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::bigint[], $8::bigint[], $9::bigint[], $10::bigint[],
    $11::numeric[], $12::numeric[], $13::numeric[], $14::numeric[])
    WITH ORDINALITY AS r(user_id, session_id, turn_id, purpose, model, provider, input, cached, output, reasoning, p_input, p_cached, p_output, p_reasoning, ord)
),
call AS (
  INSERT INTO model_calls (user_id, session_id, turn_id, purpose, model, provider,
    input_tokens, cached_input_tokens, output_tokens, reasoning_tokens, cost)
  SELECT user_id::uuid, session_id::uuid, turn_id, purpose, model, provider, input, cached, output, reasoning, cost FROM v
  RETURNING user_id, created_at, input_tokens + output_tokens AS tokens, cost
),
daily AS (
  INSERT INTO usage_daily (user_id, day, tokens, cost)
  SELECT user_id, (created_at AT TIME ZONE 'UTC')::date, SUM(tokens), COALESCE(SUM(cost), 0) FROM call GROUP BY 1, 2
  ON CONFLICT (user_id, day) DO UPDATE SET tokens = usage_daily.tokens + EXCLUDED.tokens, cost = usage_daily.cost + EXCLUDED.cost
)
SELECT cost FROM v ORDER BY ord`;

interface CallRow {
  call: ModelCall;
  model: string;
  provider: string;
  usage: ReportedUsage;
  prices: CallPrices | undefined;
}

const records = new SharedStatement<CallRow, number | null>(async (db, rows) => {
  const column = <T>(pick: (r: CallRow) => T) => rows.map(pick);
  const { rows: costs } = await db.query<{ cost: string | number | null }>(RECORD_MANY_SQL, [
    column((r) => r.call.userId),
    column((r) => r.call.sessionUuid ?? null),
    column((r) => r.call.turnId ?? null),
    column((r) => r.call.purpose),
    column((r) => r.model),
    column((r) => r.provider),
    column((r) => r.usage.inputTokens),
    column((r) => r.usage.cachedInputTokens),
    column((r) => r.usage.outputTokens),
    column((r) => r.usage.reasoningTokens),
    column((r) => r.prices?.input ?? null),
    column((r) => r.prices?.cachedInput ?? null),
    column((r) => r.prices?.output ?? null),
    column((r) => r.prices?.reasoning ?? null),
  ]);
  return costs.map(({ cost }) => (cost === null || cost === undefined ? null : Number(cost)));
});

/**
 * Records one model call and adds it to its user's day, with the other calls recorded meanwhile.
 * Returns the call's cost in USD (null without a price).
 */
export function recordCall(db: Queryable, row: CallRow): Promise<number | null> {
  return records.call(db, row);
}

/** What a user spent today and this month (UTC), and their budget overrides. */
export interface Spent {
  /** Today's UTC date, `YYYY-MM-DD`, by the database's clock. */
  today: string;
  /** The user's overrides (`users.quota`). */
  quota: unknown;
  dayTokens: number;
  dayCost: number;
  monthTokens: number;
  monthCost: number;
}

type Num = string | number;

// A user's spending this day and month (UTC), read with the other users' whose turns start
// meanwhile (each user once: see KeyedReads).
const spentOf = new KeyedReads<{ key: string; quota: unknown; today: string; day_tokens: Num; day_cost: Num; month_tokens: Num; month_cost: Num }>(`
SELECT k.id AS key, u.quota, t.today::text AS today,
  COALESCE(SUM(d.tokens) FILTER (WHERE d.day = t.today), 0) AS day_tokens,
  COALESCE(SUM(d.cost) FILTER (WHERE d.day = t.today), 0) AS day_cost,
  COALESCE(SUM(d.tokens), 0) AS month_tokens,
  COALESCE(SUM(d.cost), 0) AS month_cost
FROM unnest($1::text[]) AS k(id)
CROSS JOIN (SELECT (now() AT TIME ZONE 'UTC')::date AS today) t
JOIN users u ON u.id = k.id::uuid
LEFT JOIN usage_daily d ON d.user_id = u.id AND d.day >= date_trunc('month', t.today)::date
GROUP BY k.id, u.id, t.today`);

/** The user's spending this day and month; undefined when the user does not exist. */
export async function readSpent(db: Queryable, userId: string): Promise<Spent | undefined> {
  const rows = await spentOf.read(db, userId);
  const row = rows[0];
  if (!row) return undefined;
  return {
    today: row.today,
    quota: row.quota,
    dayTokens: Number(row.day_tokens),
    dayCost: Number(row.day_cost),
    monthTokens: Number(row.month_tokens),
    monthCost: Number(row.month_cost),
  };
}
