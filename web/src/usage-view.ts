/**
 * The "Usage" dialog (every user): what the signed-in user spent over the last 7, 30 or 90 days,
 * by day, model or chat, with the cost where the model has a price, and their budgets — how much
 * of today's and this month's is used and when each resets.
 */
import { ApiClient, describeError } from './api.js';
import { byId, ErrorBanner, formatDateTime, h } from './dom.js';
import { UsageReportSchema, type UsageReport } from './protocol.js';
import { formatCost, formatTokens, reportQuery, totalsText, usageHead, usageRow } from './usage-table.js';

export class UsagePanel {
  readonly #dialog = byId<HTMLDialogElement>('usage-dialog');
  readonly #period = byId<HTMLSelectElement>('usage-period');
  readonly #group = byId<HTMLSelectElement>('usage-group');
  readonly #totals = byId('usage-totals');
  readonly #budget = byId<HTMLUListElement>('usage-budget');
  readonly #head = byId<HTMLTableSectionElement>('usage-head');
  readonly #rows = byId<HTMLTableSectionElement>('usage-rows');
  readonly #error = new ErrorBanner('usage-error');
  /** Only the newest request may render. */
  #generation = 0;

  constructor(private readonly api: ApiClient) {
    byId('usage-close').addEventListener('click', () => this.#dialog.close());
    this.#period.addEventListener('change', () => void this.reload());
    this.#group.addEventListener('change', () => void this.reload());
  }

  async open(): Promise<void> {
    this.#error.clear();
    this.#dialog.showModal();
    this.#period.focus();
    await this.reload();
  }

  close(): void {
    if (this.#dialog.open) this.#dialog.close();
  }

  async reload(): Promise<void> {
    const generation = ++this.#generation;
    const groupBy = this.#group.value;
    this.#rows.setAttribute('aria-busy', 'true');
    try {
      const report = await this.api.json('GET', `/usage?${reportQuery(Number(this.#period.value), groupBy)}`, UsageReportSchema);
      if (generation !== this.#generation) return;
      this.#totals.textContent = totalsText(report.totals);
      this.#renderBudget(report.budget);
      this.#head.replaceChildren(usageHead(groupBy));
      this.#rows.replaceChildren(
        ...(report.groups.length ? report.groups.map((g) => usageRow(g, groupBy)) : [h('tr', {}, h('td', { colspan: '6', class: 'empty' }, 'No model calls in this period.'))]),
      );
    } catch (err) {
      if (generation === this.#generation) this.#error.show(`Could not load your usage: ${describeError(err)}`);
    } finally {
      if (generation === this.#generation) this.#rows.removeAttribute('aria-busy');
    }
  }

  #renderBudget(budget: UsageReport['budget']): void {
    if (!budget) return;
    const { limits, used, resets } = budget;
    const line = (label: string, spent: string, limit: string, reset: string) =>
      h('li', { 'data-testid': 'usage-budget-line' }, `${label}: ${spent} of ${limit} used; resets ${formatDateTime(reset)}.`);
    const lines = [
      limits.tokens_per_day === null ? null : line('Today', `${formatTokens(used.day_tokens)} tokens`, formatTokens(limits.tokens_per_day), resets.day),
      limits.cost_per_day === null ? null : line('Today', formatCost(used.day_cost), formatCost(limits.cost_per_day), resets.day),
      limits.tokens_per_month === null ? null : line('This month', `${formatTokens(used.month_tokens)} tokens`, formatTokens(limits.tokens_per_month), resets.month),
      limits.cost_per_month === null ? null : line('This month', formatCost(used.month_cost), formatCost(limits.cost_per_month), resets.month),
    ].filter((l) => l !== null);
    this.#budget.replaceChildren(...(lines.length ? lines : [h('li', { 'data-testid': 'usage-budget-line' }, 'You have no usage budget.')]));
  }
}
