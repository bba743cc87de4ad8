/**
 * Usage accounting for the rest of the server: metered model providers for turns, summaries and
 * titles, the ledger write with the Prometheus counters, and the budget check.
 */
import type { ModelProvider } from '@openai/agents';
import type { Logger } from 'pino';
import type { Budgets } from '../config/config.js';
import type { Database } from '../db/database.js';
import type { Metrics } from '../observability/metrics.js';
import { effectiveBudgets, hasBudget, overBudget, storedOverride } from './budgets.js';
import { readSpent, recordCall } from './ledger.js';
import { MeteredProvider, type CallRecorder, type MeteredOptions } from './metered-provider.js';
import type { ModelCall, ReportedUsage } from './model-call.js';
import { pricesFor, type PriceTable } from './prices.js';

export interface UsageMeterDeps {
  db: Database;
  logger: Logger;
  metrics: Metrics;
  /** The configured provider (`openai`, `azure`, `offline`), recorded with each call. */
  provider: string;
  prices: PriceTable;
  budgets: Budgets;
}

/** What a turn needs of usage accounting. */
export type ModelMeter = Pick<UsageMeter, 'models' | 'assertWithinBudget'>;

export class UsageMeter implements CallRecorder {
  readonly #log: Logger;

  constructor(private readonly deps: UsageMeterDeps) {
    this.#log = deps.logger.child({ module: 'usage' });
  }

  /** `base` with every call recorded against `call` (and, for a turn, checked against the budget first). */
  models(base: ModelProvider, call: ModelCall, options?: MeteredOptions): MeteredProvider {
    return new MeteredProvider(base, this, call, options);
  }

  /**
   * `quota` is the user's stored overrides when the caller reads them anyway (a turn's start
   * statement does): with no budget configured, a user whose overrides set none has nothing to
   * check, and the ledger is not read. Unknown overrides (`undefined`) read it as always.
   *
   * @throws AppError `QUOTA_3101` (daily) or `QUOTA_3102` (monthly) when the user has spent a budget.
   */
  async assertWithinBudget(userId: string, quota?: Promise<unknown>): Promise<void> {
    if (quota && !hasBudget(effectiveBudgets(this.deps.budgets, {}))) {
      const known = await quota;
      if (known !== undefined && !hasBudget(effectiveBudgets(this.deps.budgets, storedOverride(known)))) return;
    }
    const spent = await readSpent(this.deps.db, userId);
    if (!spent) return;
    const refusal = overBudget(effectiveBudgets(this.deps.budgets, storedOverride(spent.quota)), spent);
    if (refusal) throw refusal;
  }

  async record(call: ModelCall, model: string, usage: ReportedUsage): Promise<void> {
    const { metrics, provider } = this.deps;
    const labels = { model, provider };
    metrics.modelCalls.inc({ ...labels, purpose: call.purpose });
    metrics.modelTokens.inc({ ...labels, kind: 'input' }, usage.inputTokens);
    metrics.modelTokens.inc({ ...labels, kind: 'cached_input' }, usage.cachedInputTokens);
    metrics.modelTokens.inc({ ...labels, kind: 'output' }, usage.outputTokens);
    metrics.modelTokens.inc({ ...labels, kind: 'reasoning' }, usage.reasoningTokens);
    try {
      const cost = await recordCall(this.deps.db, { call, model, provider, usage, prices: pricesFor(this.deps.prices, model) });
      if (cost !== null) metrics.modelCost.inc(labels, cost);
    } catch (err) {
      // The answer is already paid for and on its way; a lost row must not fail the turn.
      this.#log.error({ err, user_id: call.userId, purpose: call.purpose, model }, 'recording a model call failed');
    }
  }
}
