/** Turns a `sessions` row into the `Session` wire shape, with the model's window. */
import type { Session } from './schemas.js';
import type { SessionRow } from './types.js';

export function toSession(row: SessionRow, contextWindow: (model: string) => number): Session {
  const max = contextWindow(row.model);
  return {
    id: row.id,
    session_id: row.session_id,
    title: row.title,
    is_named: row.is_named,
    model: row.model,
    reasoning_effort: row.reasoning_effort as Session['reasoning_effort'],
    mcp_config: row.mcp_config,
    instructions: row.instructions,
    pinned: row.pinned,
    archived: row.archived,
    message_count: row.message_count,
    turn_count: row.turn_count,
    total_tokens: row.total_tokens,
    max_tokens: max,
    trigger_tokens: Math.floor(0.8 * max),
    created_at: row.created_at.toISOString(),
    last_used_at: row.last_used_at.toISOString(),
    pending_approvals: row.pending_approvals ?? 0,
  };
}
