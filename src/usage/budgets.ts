/**
 * Budgets: the configured defaults, an administrator's per-user overrides, and the refusal when a
 * user has spent one. Pure: the spending comes from the ledger (`readSpent`).
 */
import { z } from 'zod';
import type { Budgets } from '../config/config.js';
import { AppError } from '../errors/app-error.js';
import type { Spent } from './ledger.js';

const tokens = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).nullable();
const usd = z.number().finite().min(0).max(1e12).nullable();

/**
 * A user's overrides, as stored in `users.quota` and sent by an administrator: a key that is
 * absent takes the configured default, a number is that user's budget, null is no budget.
 */
export const QuotaOverrideSchema = z
  .object({ tokens_per_day: tokens.optional(), tokens_per_month: tokens.optional(), cost_per_day: usd.optional(), cost_per_month: usd.optional() })
  .strict();
export type QuotaOverride = z.infer<typeof QuotaOverrideSchema>;

/** A user's budgets on the wire: null is no budget. */
export const EffectiveBudgetsSchema = z.object({ tokens_per_day: tokens, tokens_per_month: tokens, cost_per_day: usd, cost_per_month: usd });
export type EffectiveBudgets = z.infer<typeof EffectiveBudgetsSchema>;

/** The overrides stored for a user; anything unreadable counts as none. */
export function storedOverride(value: unknown): QuotaOverride {
  const parsed = QuotaOverrideSchema.safeParse(value ?? {});
  return parsed.success ? parsed.data : {};
}

/** The defaults with the user's overrides on top. */
export function effectiveBudgets(defaults: Budgets, override: QuotaOverride): EffectiveBudgets {
  const pick = <T>(key: keyof QuotaOverride, fallback: T | undefined): T | null =>
    key in override ? ((override[key] ?? null) as T | null) : (fallback ?? null);
  return {
    tokens_per_day: pick('tokens_per_day', defaults.tokensPerDay),
    tokens_per_month: pick('tokens_per_month', defaults.tokensPerMonth),
    cost_per_day: pick('cost_per_day', defaults.costPerDay),
    cost_per_month: pick('cost_per_month', defaults.costPerMonth),
  };
}

/** Midnight UTC after `today` (`YYYY-MM-DD`), and the first of the next month. */
export function resets(today: string): { day: Date; month: Date } {
  const [y, m, d] = today.split('-').map(Number) as [number, number, number];
  return { day: new Date(Date.UTC(y, m - 1, d + 1)), month: new Date(Date.UTC(y, m, 1)) };
}

const when = (date: Date) => `${date.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
const number = (n: number) => n.toLocaleString('en-US');
const usdText = (n: number) => `$${n.toFixed(2)}`;

/** Whether any of `budgets` is set (a user with none can never be refused). */
export function hasBudget(budgets: EffectiveBudgets): boolean {
  return budgets.tokens_per_day !== null || budgets.tokens_per_month !== null || budgets.cost_per_day !== null || budgets.cost_per_month !== null;
}

/**
 * The refusal for a user who has spent a budget (used ≥ budget), the monthly one first (it resets
 * later); undefined while every budget has room.
 */
export function overBudget(budgets: EffectiveBudgets, spent: Spent): AppError | undefined {
  const reset = resets(spent.today);
  const month = `This month’s budget is used up; it resets at ${when(reset.month)}.`;
  const day = `Today’s budget is used up; it resets at ${when(reset.day)}.`;
  if (budgets.tokens_per_month !== null && spent.monthTokens >= budgets.tokens_per_month) {
    return new AppError('QUOTA_3102', `${month} (${number(spent.monthTokens)} of ${number(budgets.tokens_per_month)} tokens used.)`);
  }
  if (budgets.cost_per_month !== null && spent.monthCost >= budgets.cost_per_month) {
    return new AppError('QUOTA_3102', `${month} (${usdText(spent.monthCost)} of ${usdText(budgets.cost_per_month)} used.)`);
  }
  if (budgets.tokens_per_day !== null && spent.dayTokens >= budgets.tokens_per_day) {
    return new AppError('QUOTA_3101', `${day} (${number(spent.dayTokens)} of ${number(budgets.tokens_per_day)} tokens used.)`);
  }
  if (budgets.cost_per_day !== null && spent.dayCost >= budgets.cost_per_day) {
    return new AppError('QUOTA_3101', `${day} (${usdText(spent.dayCost)} of ${usdText(budgets.cost_per_day)} used.)`);
  }
  return undefined;
}
