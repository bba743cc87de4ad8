/**
 * `GET /api/v1/usage` (the caller's own usage and budget) and `GET /api/v1/admin/usage`
 * (everyone's, administrators only). Both read the ledger for a bounded time range.
 */
import { z } from 'zod';
import { requireAdmin } from '../admin/routes.js';
import { requireUser, userOf } from '../auth/request-user.js';
import type { Authenticate } from '../auth/types.js';
import type { Budgets } from '../config/config.js';
import type { Database } from '../db/database.js';
import { AppError } from '../errors/app-error.js';
import { API_PREFIX, type PulpFastify } from '../http/server.js';
import { EffectiveBudgetsSchema, effectiveBudgets, resets, storedOverride } from './budgets.js';
import { readSpent } from './ledger.js';
import { usageReport } from './report.js';

/** The default range: the last 30 days. */
export const DEFAULT_RANGE_DAYS = 30;
/** The longest range one request may ask for. */
export const MAX_RANGE_DAYS = 366;
const DAY_MS = 86_400_000;

const ISO = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2}))?$/;
const instant = z
  .string()
  .max(40)
  .refine((v) => ISO.test(v) && !Number.isNaN(Date.parse(v)), { message: 'must be a date (2026-12-01) or a date-time with an offset (2026-12-01T09:00:00Z)' })
  .optional();
const rangeFields = { from: instant, to: instant, limit: z.coerce.number().int().min(1).max(1000).default(100) };
const OwnQuerySchema = z.object({ ...rangeFields, group_by: z.enum(['day', 'model', 'session']).default('day') }).strict();
const AdminQuerySchema = z.object({ ...rangeFields, group_by: z.enum(['user', 'model', 'day']).default('user') }).strict();

const TotalsSchema = z.object({
  calls: z.number().int(),
  input_tokens: z.number().int(),
  cached_input_tokens: z.number().int(),
  output_tokens: z.number().int(),
  reasoning_tokens: z.number().int(),
  total_tokens: z.number().int(),
  cost: z.number().nullable(),
  unpriced_calls: z.number().int(),
});
const GroupSchema = TotalsSchema.extend({ key: z.string().nullable(), label: z.string().nullable() });
const ReportSchema = z.object({
  from: z.string(),
  to: z.string(),
  group_by: z.string(),
  totals: TotalsSchema,
  groups: z.array(GroupSchema),
  has_more: z.boolean(),
});
export const BudgetSchema = z.object({
  limits: EffectiveBudgetsSchema,
  used: z.object({ day_tokens: z.number(), day_cost: z.number(), month_tokens: z.number(), month_cost: z.number() }),
  resets: z.object({ day: z.string(), month: z.string() }),
});

/** Dates are whole UTC days, both included; date-times are instants, `to` excluded. */
function range(query: { from?: string | undefined; to?: string | undefined }, now: Date): { from: Date; to: Date } {
  const dateOnly = (v: string) => v.length === 10;
  const to = query.to === undefined ? now : new Date(Date.parse(query.to) + (dateOnly(query.to) ? DAY_MS : 0));
  const from = query.from === undefined ? new Date(to.getTime() - DEFAULT_RANGE_DAYS * DAY_MS) : new Date(Date.parse(query.from));
  const invalid = (field: string, message: string) => new AppError('VAL_2001', `Validation failed: ${field}: ${message}`, [{ field, message }]);
  if (from.getTime() >= to.getTime()) throw invalid('from', 'must be before to');
  if (to.getTime() - from.getTime() > MAX_RANGE_DAYS * DAY_MS) throw invalid('to', `the range may span at most ${MAX_RANGE_DAYS} days`);
  return { from, to };
}

export interface UsageRouteDeps {
  db: Database;
  authenticate: Authenticate;
  /** The `QUOTA_*` defaults, shown with the caller's overrides. */
  budgets: Budgets;
}

export function registerUsageRoutes(app: PulpFastify, deps: UsageRouteDeps): void {
  const security = [{ bearer: [] }];
  const report = async (userId: string | undefined, query: z.infer<typeof OwnQuerySchema> | z.infer<typeof AdminQuerySchema>) => {
    const { from, to } = range(query, new Date());
    const result = await usageReport(deps.db, { userId, from, to, groupBy: query.group_by, limit: query.limit });
    return { from: from.toISOString(), to: to.toISOString(), group_by: query.group_by, ...result };
  };

  app.get(
    `${API_PREFIX}/usage`,
    {
      onRequest: [requireUser(deps.authenticate)],
      schema: { tags: ['usage'], security, querystring: OwnQuerySchema, response: { 200: ReportSchema.extend({ budget: BudgetSchema }) } },
    },
    async (request) => {
      const user = userOf(request);
      const [body, spent] = await Promise.all([report(user.id, request.query), readSpent(deps.db, user.id)]);
      if (!spent) throw new AppError('AUTH_1002');
      const reset = resets(spent.today);
      const budget = {
        limits: effectiveBudgets(deps.budgets, storedOverride(spent.quota)),
        used: { day_tokens: spent.dayTokens, day_cost: spent.dayCost, month_tokens: spent.monthTokens, month_cost: spent.monthCost },
        resets: { day: reset.day.toISOString(), month: reset.month.toISOString() },
      };
      return { ...body, budget };
    },
  );

  app.get(
    `${API_PREFIX}/admin/usage`,
    {
      onRequest: [requireUser(deps.authenticate), requireAdmin],
      schema: { tags: ['admin'], security, querystring: AdminQuerySchema, response: { 200: ReportSchema } },
    },
    async (request) => report(undefined, request.query),
  );
}
