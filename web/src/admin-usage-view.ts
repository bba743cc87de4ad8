/**
 * The usage section of the administration dialog: everyone's usage over the last 30 days, by
 * user, model or day (`GET /admin/usage`), and the budget text of a user row.
 */
import { ApiClient, describeError } from './api.js';
import { byId, type ErrorBanner, h } from './dom.js';
import { UsageReportSchema, type BudgetLimits } from './protocol.js';
import { formatCost, formatTokens, reportQuery, totalsText, usageHead, usageRow } from './usage-table.js';

/** The period the section shows. */
export const ADMIN_USAGE_DAYS = 30;

/** "50,000 tokens/day · $5.00/month", or "None". */
export function budgetText(limits: BudgetLimits | undefined): string {
  if (!limits) return '—';
  const parts = [
    limits.tokens_per_day === null ? null : `${formatTokens(limits.tokens_per_day)} tokens/day`,
    limits.tokens_per_month === null ? null : `${formatTokens(limits.tokens_per_month)} tokens/month`,
    limits.cost_per_day === null ? null : `${formatCost(limits.cost_per_day)}/day`,
    limits.cost_per_month === null ? null : `${formatCost(limits.cost_per_month)}/month`,
  ].filter((p) => p !== null);
  return parts.length ? parts.join(' · ') : 'None';
}

export class AdminUsage {
  readonly #group = byId<HTMLSelectElement>('admin-usage-group');
  readonly #totals = byId('admin-usage-totals');
  readonly #head = byId<HTMLTableSectionElement>('admin-usage-head');
  readonly #rows = byId<HTMLTableSectionElement>('admin-usage-rows');
  #generation = 0;

  constructor(
    private readonly api: ApiClient,
    private readonly error: ErrorBanner,
  ) {
    this.#group.addEventListener('change', () => void this.reload());
  }

  async reload(): Promise<void> {
    const generation = ++this.#generation;
    const groupBy = this.#group.value;
    this.#rows.setAttribute('aria-busy', 'true');
    try {
      const report = await this.api.json('GET', `/admin/usage?${reportQuery(ADMIN_USAGE_DAYS, groupBy)}`, UsageReportSchema);
      if (generation !== this.#generation) return;
      this.#totals.textContent = totalsText(report.totals);
      this.#head.replaceChildren(usageHead(groupBy));
      this.#rows.replaceChildren(
        ...(report.groups.length ? report.groups.map((g) => usageRow(g, groupBy)) : [h('tr', {}, h('td', { colspan: '6', class: 'empty' }, 'No model calls in this period.'))]),
      );
    } catch (err) {
      if (generation === this.#generation) this.error.show(`Could not load the usage: ${describeError(err)}`);
    } finally {
      if (generation === this.#generation) this.#rows.removeAttribute('aria-busy');
    }
  }
}
