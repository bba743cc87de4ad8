/**
 * The ledger's writes and the budget check's read: one statement each. A call's row and its
 * user's daily running total are written together, so the check never sums more than a month of
 * days, and every server of a cluster reads the same truth.
 */
import type { Queryable } from '../db/database.js';
import type { ModelCall, ReportedUsage } from './model-call.js';
import type { CallPrices } from './prices.js';
import { KeyedReads } from '../db/keyed-reads.js';

/** One call's cost in USD from its prices, in numeric arithmetic (reasoning ⊆ output, cached ⊆ input). */
const COST = `CASE WHEN $10::numeric IS NULL THEN NULL ELSE (
    GREATEST($7::bigint - $8::bigint, 0) * $10::numeric + LEAST($8::bigint, $7::bigint) * $11::numeric
  + GREATEST($9::bigint - $12::bigint, 0) * $13::numeric + LEAST($12::bigint, $9::bigint) * $14::numeric
  ) / 1000000 END`;

const RECORD_SQL = `WITH call AS (
  INSERT INTO model_calls (user_id, session_id, turn_id, purpose, model, provider,
    input_tokens, cached_input_tokens, output_tokens, reasoning_tokens, cost)
  VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $12, ${COST})
  RETURNING user_id, created_at, input_tokens + output_tokens AS tokens, cost
)
INSERT INTO usage_daily (user_id, day, tokens, cost)
SELECT user_id, (created_at AT TIME ZONE 'UTC')::date, tokens, COALESCE(cost, 0) FROM call
ON CONFLICT (user_id, day) DO UPDATE SET tokens = usage_daily.tokens + EXCLUDED.tokens, cost = usage_daily.cost + EXCLUDED.cost
RETURNING (SELECT cost FROM call) AS cost`;

/**
 * Records one model call and adds it to its user's day. Returns the call's cost in USD (null
 * without a price).
 */
export async function recordCall(
  db: Queryable,
  row: { call: ModelCall; model: string; provider: string; usage: ReportedUsage; prices: CallPrices | undefined },
): Promise<number | null> {
  const { call, usage, prices } = row;
  const { rows } = await db.query<{ cost: string | number | null }>(RECORD_SQL, [
    call.userId,
    call.sessionUuid,
    call.turnId,
    call.purpose,
    row.model,
    row.provider,
    usage.inputTokens,
    usage.cachedInputTokens,
    usage.outputTokens,
    prices?.input ?? null,
    prices?.cachedInput ?? null,
    usage.reasoningTokens,
    prices?.output ?? null,
    prices?.reasoning ?? null,
  ]);
  const cost = rows[0]?.cost;
  return cost === null || cost === undefined ? null : Number(cost);
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
