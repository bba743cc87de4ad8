/**
 * Which context items a summarization replaces, as a pure function: keep the last 2
 * user exchanges verbatim, summarize everything older, never separate a tool call from its
 * output, and fold an earlier summary into the next one.
 */
import type { AgentInputItem, SystemMessageItem } from '@openai/agents';

/** How every summary item's text starts, so a later summarization recognises and folds it. */
export const SUMMARY_PREFIX = 'Summary of the earlier conversation';

/** User exchanges kept verbatim. */
export const KEEP_USER_EXCHANGES = 2;

/** Fewer older items than this are not worth a summary. */
export const MIN_OLDER_ITEMS = 3;

export interface SummaryPlan {
  /** Items to summarize, in order (an earlier summary item first, when there is one). */
  older: AgentInputItem[];
  /** Items kept verbatim after the summary, in order. */
  kept: AgentInputItem[];
}

/** The system item that stands for the summarized part of the conversation. */
export function makeSummaryItem(summary: string): SystemMessageItem {
  return { type: 'message', role: 'system', content: `${SUMMARY_PREFIX}:\n\n${summary.trim()}` };
}

/** Whether `item` is a summary made by {@link makeSummaryItem}. */
export function isSummaryItem(item: AgentInputItem): item is SystemMessageItem {
  const it = item as { role?: unknown; content?: unknown };
  return it.role === 'system' && typeof it.content === 'string' && it.content.startsWith(SUMMARY_PREFIX);
}

/** The text of a summary item without its prefix. */
export function summaryText(item: SystemMessageItem): string {
  return item.content.slice(SUMMARY_PREFIX.length).replace(/^:\s*/, '');
}

function isUserMessage(item: AgentInputItem): boolean {
  return (item as { role?: unknown }).role === 'user';
}

/** Item types that open a tool call and the types of their outputs; they pair by call id. */
const CALL_TYPES = new Set([
  'function_call',
  'computer_call',
  'shell_call',
  'apply_patch_call',
  'program',
  'tool_search_call',
]);
const OUTPUT_TYPES = new Set([
  'function_call_result',
  'computer_call_result',
  'shell_call_output',
  'apply_patch_call_output',
  'program_output',
  'tool_search_output',
]);

function callIdOf(item: AgentInputItem): string | undefined {
  const it = item as { callId?: unknown; call_id?: unknown };
  const id = it.callId ?? it.call_id;
  return typeof id === 'string' && id.length > 0 ? id : undefined;
}

function typeOf(item: AgentInputItem): string | undefined {
  const type = (item as { type?: unknown }).type;
  return typeof type === 'string' ? type : undefined;
}

/**
 * Moves `cut` earlier until no tool call before it has its output at or after it. Reasoning
 * items right before a moved-in call come along: the Responses API wants them next to the call.
 */
function keepCallsWithOutputs(items: readonly AgentInputItem[], cut: number): number {
  const firstIndexOfCall = new Map<string, number>();
  items.forEach((item, i) => {
    const id = callIdOf(item);
    const type = typeOf(item);
    if (id && type && CALL_TYPES.has(type) && !firstIndexOfCall.has(id)) firstIndexOfCall.set(id, i);
  });
  let moved = cut;
  // Any output in the kept part whose call sits in the older part pulls the cut back to the call.
  for (let i = items.length - 1; i >= moved; i--) {
    const item = items[i];
    if (!item) continue;
    const type = typeOf(item);
    const id = callIdOf(item);
    if (!id || !type || !OUTPUT_TYPES.has(type)) continue;
    const callIndex = firstIndexOfCall.get(id);
    if (callIndex !== undefined && callIndex < moved) moved = callIndex;
  }
  while (moved > 0 && typeOf(items[moved - 1] as AgentInputItem) === 'reasoning') moved--;
  return moved;
}

/** Index where the last `exchanges` user exchanges start; consecutive user messages form one exchange. */
function exchangeCut(items: readonly AgentInputItem[], exchanges: number): number {
  let found = 0;
  for (let i = items.length - 1; i >= 0; i--) {
    const item = items[i] as AgentInputItem;
    if (!isUserMessage(item)) continue;
    const previous = items[i - 1];
    if (previous && isUserMessage(previous)) continue; // still inside the same run of user messages
    found++;
    if (found === exchanges) return i;
  }
  // Fewer exchanges than asked for: keep from the first user message (nothing when there is none).
  const firstUser = items.findIndex(isUserMessage);
  return firstUser === -1 ? items.length : firstUser;
}

export interface PlanOptions {
  /** Default {@link KEEP_USER_EXCHANGES}. */
  keepExchanges?: number;
  /** Default {@link MIN_OLDER_ITEMS}. */
  minOlderItems?: number;
}

/**
 * Splits the context into what to summarize and what to keep, or `null` when fewer than
 * `minOlderItems` items (an earlier summary counts as one) would be summarized.
 *
 * A user exchange is a user message (or a run of consecutive ones, as one turn sends them) and
 * everything after it up to the next user message. The cut only ever moves earlier — keeping
 * more verbatim — so a tool call and its output end up on the same side.
 */
export function planSummary(items: readonly AgentInputItem[], options: PlanOptions = {}): SummaryPlan | null {
  const keepExchanges = options.keepExchanges ?? KEEP_USER_EXCHANGES;
  const minOlder = options.minOlderItems ?? MIN_OLDER_ITEMS;
  const cut = keepCallsWithOutputs(items, exchangeCut(items, keepExchanges));
  if (cut < minOlder) return null;
  return { older: items.slice(0, cut), kept: items.slice(cut) };
}
