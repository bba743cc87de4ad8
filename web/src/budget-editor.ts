/**
 * The budget dialog of the administration page: one user's four budget overrides. Each field is
 * empty (the server's default), "none" (no budget for this user) or a number (tokens, or USD).
 * The answer is the `quota` object for `PATCH /admin/users/{id}`, or null when cancelled.
 */
import { byId } from './dom.js';
import type { QuotaOverride } from './protocol.js';

const FIELDS = [
  { key: 'tokens_per_day', id: 'budget-tokens-day', usd: false },
  { key: 'tokens_per_month', id: 'budget-tokens-month', usd: false },
  { key: 'cost_per_day', id: 'budget-cost-day', usd: true },
  { key: 'cost_per_month', id: 'budget-cost-month', usd: true },
] as const;

/** One field's text → its override: undefined (default), null (none) or a number; an Error when invalid. */
export function parseBudgetField(text: string, usd: boolean): number | null | undefined | Error {
  const value = text.trim().toLowerCase();
  if (value === '') return undefined;
  if (value === 'none') return null;
  const n = Number(value.replace(/[$,\s]/g, ''));
  if (!Number.isFinite(n) || n < 0 || (!usd && !Number.isInteger(n))) return new Error(usd ? 'an amount in USD' : 'a whole number of tokens');
  return n;
}

/** Asks for `email`'s overrides, starting from `current`; resolves with the new `quota` or null. */
export function editBudget(email: string, current: QuotaOverride): Promise<QuotaOverride | null> {
  const dialog = byId<HTMLDialogElement>('budget-dialog');
  const error = byId('budget-form-error');
  byId('budget-heading').textContent = `Budget of ${email}`;
  error.textContent = '';
  for (const f of FIELDS) {
    const value = current[f.key];
    byId<HTMLInputElement>(f.id).value = value === undefined ? '' : value === null ? 'none' : String(value);
  }
  dialog.returnValue = 'cancel';
  dialog.showModal();
  byId<HTMLInputElement>(FIELDS[0].id).focus();
  return new Promise((resolve) => {
    const form = byId<HTMLFormElement>('budget-form');
    const onSubmit = (ev: SubmitEvent) => {
      if ((ev.submitter as HTMLButtonElement | null)?.value !== 'ok') return;
      const quota: QuotaOverride = {};
      for (const f of FIELDS) {
        const input = byId<HTMLInputElement>(f.id);
        const parsed = parseBudgetField(input.value, f.usd);
        if (parsed instanceof Error) {
          ev.preventDefault();
          error.textContent = `${input.labels?.[0]?.textContent ?? f.key}: give ${parsed.message}, "none", or leave it empty for the default.`;
          input.focus();
          return;
        }
        if (parsed !== undefined) quota[f.key] = parsed;
      }
      dialog.dataset.quota = JSON.stringify(quota);
    };
    form.addEventListener('submit', onSubmit);
    dialog.addEventListener(
      'close',
      () => {
        form.removeEventListener('submit', onSubmit);
        const quota = dialog.returnValue === 'ok' && dialog.dataset.quota ? (JSON.parse(dialog.dataset.quota) as QuotaOverride) : null;
        delete dialog.dataset.quota;
        resolve(quota);
      },
      { once: true },
    );
  });
}
