/**
 * Usage reports over the ledger: totals and groups (by day, model, session or user) for a time
 * range, for one user or for everyone. Framework-free; the routes pass the caller's own id for
 * their own report, so a user can only ever read their own rows.
 */
import type { Queryable } from '../db/database.js';

export type GroupBy = 'day' | 'model' | 'session' | 'user';

export interface UsageTotals {
  calls: number;
  input_tokens: number;
  cached_input_tokens: number;
  output_tokens: number;
  reasoning_tokens: number;
  /** input + output, the figure budgets count. */
  total_tokens: number;
  /** USD of the priced calls; null when none was priced. */
  cost: number | null;
  /** Calls of models without a price: their tokens count, their cost is unknown. */
  unpriced_calls: number;
}

export interface UsageGroup extends UsageTotals {
  /** The day (`YYYY-MM-DD`, UTC), model name, session's public id or user id; null for deleted sessions. */
  key: string | null;
  /** The session's title or the user's email, when grouped by those. */
  label: string | null;
}

export interface UsageQuery {
  /** Only this user's calls; undefined for everyone's (administrators). */
  userId: string | undefined;
  from: Date;
  to: Date;
  groupBy: GroupBy;
  /** At most this many groups (the largest first, days in order). */
  limit: number;
}

type Num = string | number | null;
type TotalsRow = Record<'calls' | 'input_tokens' | 'cached_input_tokens' | 'output_tokens' | 'reasoning_tokens' | 'cost' | 'unpriced_calls', Num>;

const SUMS = `count(*) AS calls, COALESCE(sum(c.input_tokens), 0) AS input_tokens,
  COALESCE(sum(c.cached_input_tokens), 0) AS cached_input_tokens, COALESCE(sum(c.output_tokens), 0) AS output_tokens,
  COALESCE(sum(c.reasoning_tokens), 0) AS reasoning_tokens, sum(c.cost) AS cost,
  count(*) FILTER (WHERE c.cost IS NULL) AS unpriced_calls`;
const WHERE = `($1::uuid IS NULL OR c.user_id = $1) AND c.created_at >= $2 AND c.created_at < $3`;

/** The key, label, joins and order of each grouping. */
const GROUPS: Record<GroupBy, { key: string; label: string; join: string; group: string; order: string }> = {
  day: { key: `((c.created_at AT TIME ZONE 'UTC')::date)::text`, label: 'NULL::text', join: '', group: '1', order: '1' },
  model: { key: 'c.model', label: 'NULL::text', join: '', group: '1', order: 'total_tokens DESC, 1' },
  session: {
    key: 's.session_id',
    label: 's.title',
    join: 'LEFT JOIN sessions s ON s.id = c.session_id',
    group: 's.id, s.session_id, s.title',
    order: 'total_tokens DESC, 1 NULLS LAST',
  },
  user: { key: 'u.id::text', label: 'u.email', join: 'JOIN users u ON u.id = c.user_id', group: 'u.id, u.email', order: 'total_tokens DESC, 1' },
};

function totals(row: TotalsRow | undefined): UsageTotals {
  const n = (v: Num | undefined) => Number(v ?? 0);
  return {
    calls: n(row?.calls),
    input_tokens: n(row?.input_tokens),
    cached_input_tokens: n(row?.cached_input_tokens),
    output_tokens: n(row?.output_tokens),
    reasoning_tokens: n(row?.reasoning_tokens),
    total_tokens: n(row?.input_tokens) + n(row?.output_tokens),
    cost: row?.cost === null || row?.cost === undefined ? null : Number(row.cost),
    unpriced_calls: n(row?.unpriced_calls),
  };
}

/** Totals over the range and up to `limit` groups; `has_more` when groups were left out. */
export async function usageReport(db: Queryable, q: UsageQuery): Promise<{ totals: UsageTotals; groups: UsageGroup[]; has_more: boolean }> {
  const params = [q.userId ?? null, q.from, q.to];
  const g = GROUPS[q.groupBy];
  const [total, grouped] = await Promise.all([
    db.query<TotalsRow>(`SELECT ${SUMS} FROM model_calls c WHERE ${WHERE}`, params),
    db.query<TotalsRow & { key: string | null; label: string | null; total_tokens: Num }>(
      `SELECT ${g.key} AS key, ${g.label} AS label, ${SUMS}, COALESCE(sum(c.input_tokens + c.output_tokens), 0) AS total_tokens
       FROM model_calls c ${g.join} WHERE ${WHERE} GROUP BY ${g.group} ORDER BY ${g.order} LIMIT $4`,
      [...params, q.limit + 1],
    ),
  ]);
  const groups = grouped.rows.slice(0, q.limit).map((row) => ({ key: row.key, label: row.label, ...totals(row) }));
  return { totals: totals(total.rows[0]), groups, has_more: grouped.rows.length > q.limit };
}
