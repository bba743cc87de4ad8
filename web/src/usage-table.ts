/**
 * Usage figures as the Usage dialog and the administration dialog show them: a summary line of
 * totals, and one table row per group (day, model, chat or user) with tokens, calls and cost —
 * "unknown" where a model has no price.
 */
import { h } from './dom.js';
import type { UsageGroup, UsageReport } from './protocol.js';

const NUMBER = new Intl.NumberFormat('en-US');

export const formatTokens = (n: number): string => NUMBER.format(n);

/** USD with enough digits that a small cost does not read as zero. */
export function formatCost(usd: number | null): string {
  if (usd === null) return 'unknown';
  if (usd === 0) return '$0.00';
  return usd < 0.01 ? `$${usd.toPrecision(2)}` : `$${usd.toFixed(2)}`;
}

/** "12,345 tokens in 6 model calls, $0.01 (2 calls of unpriced models not included)". */
export function totalsText(totals: UsageReport['totals']): string {
  const calls = totals.calls === 1 ? '1 model call' : `${formatTokens(totals.calls)} model calls`;
  const unpriced = totals.unpriced_calls > 0 ? ` (${formatTokens(totals.unpriced_calls)} of unpriced models not included)` : '';
  const cost = totals.cost === null ? 'cost unknown' : `${formatCost(totals.cost)}${unpriced}`;
  return `${formatTokens(totals.total_tokens)} tokens in ${calls}, ${cost}.`;
}

/** The first column of a group: the day, model, chat title or email. */
function groupName(group: UsageGroup, groupBy: string): string {
  if (groupBy === 'session') return group.key === null ? 'Deleted chats' : (group.label ?? 'Untitled chat');
  if (groupBy === 'user') return group.label ?? group.key ?? '—';
  return group.key ?? '—';
}

export function usageRow(group: UsageGroup, groupBy: string): HTMLTableRowElement {
  return h(
    'tr',
    { 'data-testid': 'usage-row', 'data-key': group.key ?? '' },
    h('th', { scope: 'row' }, groupName(group, groupBy)),
    h('td', { class: 'num' }, formatTokens(group.input_tokens)),
    h('td', { class: 'num' }, formatTokens(group.output_tokens)),
    h('td', { class: 'num' }, formatTokens(group.total_tokens)),
    h('td', { class: 'num' }, formatTokens(group.calls)),
    h('td', { class: 'num', 'data-testid': 'usage-cost' }, formatCost(group.cost)),
  );
}

/** The table head for a grouping. */
export function usageHead(groupBy: string): HTMLTableRowElement {
  const first = { day: 'Day (UTC)', model: 'Model', session: 'Chat', user: 'User' }[groupBy] ?? 'Group';
  return h(
    'tr',
    {},
    ...[first, 'Input tokens', 'Output tokens', 'Total tokens', 'Calls', 'Cost'].map((label, i) => h('th', { scope: 'col', class: i > 0 ? 'num' : undefined }, label)),
  );
}

/** The query string of a report: the last `days` days, grouped by `groupBy`. */
export function reportQuery(days: number, groupBy: string): string {
  const from = new Date(Date.now() - days * 86_400_000).toISOString();
  return new URLSearchParams({ from, group_by: groupBy }).toString();
}
