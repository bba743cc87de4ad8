/**
 * The text of an import, checked before anything is written: what PostgreSQL cannot store (U+0000,
 * unpaired surrogates) and text longer than MAX_TEXT_CHARS are refused, naming the message.
 */
import { unstorableReason } from '../util/storable-text.js';
import { importError, MAX_TEXT_CHARS } from './model.js';
import type { PlacedRow } from './tree.js';

/** Deeper than any item a turn stores; bounds the walk over a hostile one. */
const MAX_ITEM_DEPTH = 32;

export function checkText(value: string | null, where: string, field: string): void {
  if (value === null) return;
  if (value.length > MAX_TEXT_CHARS) throw importError('VAL_2034', where, `${field} is ${value.length} characters long; at most ${MAX_TEXT_CHARS} are imported`);
  const reason = unstorableReason(value);
  if (reason !== undefined) throw importError('VAL_2033', where, `${field} ${reason}`);
}

export function checkRows(rows: readonly PlacedRow[], label: string): void {
  for (const { row, nodeId } of rows) {
    const where = `${label}, node ${nodeId.length > 80 ? `${nodeId.slice(0, 80)}…` : nodeId}`;
    checkText(row.content, where, 'the text');
    checkText(row.reasoning, where, 'the reasoning');
    checkText(row.toolCallId, where, 'the tool call id');
    checkText(row.toolName, where, 'the tool name');
    checkText(row.toolResult, where, 'the tool result');
    if (row.toolArguments !== null) checkJson(row.toolArguments, where, 'the tool arguments');
  }
}

/** Every string and key of `value` storable, nesting at most MAX_ITEM_DEPTH, the whole at most MAX_TEXT_CHARS as JSON. */
export function checkJson(value: unknown, where: string, field: string): void {
  const stack: { value: unknown; depth: number }[] = [{ value, depth: 0 }];
  while (stack.length > 0) {
    const next = stack.pop()!;
    if (typeof next.value === 'string') {
      checkText(next.value, where, field);
      continue;
    }
    if (next.value === null || typeof next.value !== 'object') continue;
    if (next.depth > MAX_ITEM_DEPTH) throw importError('VAL_2034', where, `${field} is nested deeper than ${MAX_ITEM_DEPTH} levels`);
    for (const [key, item] of Object.entries(next.value)) {
      if (!Array.isArray(next.value)) checkText(key, where, `a key of ${field}`);
      stack.push({ value: item, depth: next.depth + 1 });
    }
  }
  const size = JSON.stringify(value).length;
  if (size > MAX_TEXT_CHARS) throw importError('VAL_2034', where, `${field} is ${size} characters long as JSON; at most ${MAX_TEXT_CHARS} are imported`);
}
