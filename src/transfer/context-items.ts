/**
 * The model context of imported rows, in the shapes a turn stores: a user row is a user message,
 * an assistant row an assistant message, a tool row a function call and its result. Reasoning is
 * display only (a turn's context does not carry it either).
 */
import type { AgentInputItem } from '@openai/agents';
import type { ImportRow } from './model.js';

/** The context items of one row (none for an assistant row with no text). */
export function itemsOfRow(row: ImportRow, fallbackCallId: string): AgentInputItem[] {
  if (row.role === 'user') return [{ type: 'message', role: 'user', content: row.content ?? '' }];
  if (row.role === 'assistant') {
    if (!row.content) return [];
    return [{ type: 'message', role: 'assistant', status: 'completed', content: [{ type: 'output_text', text: row.content }] }];
  }
  const callId = row.toolCallId ?? fallbackCallId;
  const name = row.toolName ?? 'tool';
  return [
    { type: 'function_call', callId, name, arguments: JSON.stringify(row.toolArguments ?? {}), status: 'completed' },
    { type: 'function_call_result', callId, name, status: 'completed', output: { type: 'text', text: row.toolResult ?? '' } },
  ];
}
