/**
 * Reads one session's whole conversation tree for export and sharing: every row with its parent,
 * the active leaf, and the model context items with the row they hang on. The caller has checked
 * the owner.
 */
import type { AgentInputItem } from '@openai/agents';
import type { MessageRow } from '../chat/message-store.js';
import type { Queryable } from '../db/database.js';

export interface TreeRow extends MessageRow {
  parent_id: string | null;
}

export interface ContextRow {
  seq: number;
  item: AgentInputItem;
  message_id: string | null;
  summary_through_seq: number | null;
}

export interface SessionTree {
  /** Every row, in seq order. */
  rows: TreeRow[];
  activeLeafId: string | null;
}

const ROW_COLUMNS =
  'id, session_id, seq, role, content, metadata, tool_call_id, tool_name, tool_arguments, tool_result, tool_success, reasoning, created_at, parent_id';

export async function readTree(q: Queryable, sessionUuid: string): Promise<SessionTree> {
  const [messages, session] = await Promise.all([
    q.query<TreeRow>(`SELECT ${ROW_COLUMNS} FROM messages WHERE session_id = $1 ORDER BY seq`, [sessionUuid]),
    q.query<{ active_leaf_id: string | null }>('SELECT active_leaf_id FROM sessions WHERE id = $1', [sessionUuid]),
  ]);
  return {
    rows: messages.rows.map((r) => ({ ...r, seq: Number(r.seq) })),
    activeLeafId: session.rows[0]?.active_leaf_id ?? null,
  };
}

export async function readContext(q: Queryable, sessionUuid: string): Promise<ContextRow[]> {
  const { rows } = await q.query<ContextRow>(
    'SELECT seq, item, message_id, summary_through_seq FROM llm_context WHERE session_id = $1 ORDER BY seq',
    [sessionUuid],
  );
  return rows.map((r) => ({ ...r, seq: Number(r.seq), summary_through_seq: r.summary_through_seq === null ? null : Number(r.summary_through_seq) }));
}

/**
 * The rows of the active path, root first. Without an active leaf the newest row ends the path.
 */
export function activePath(tree: SessionTree): TreeRow[] {
  const { rows } = tree;
  if (rows.length === 0) return [];
  const byId = new Map(rows.map((r) => [r.id, r]));
  const path: TreeRow[] = [];
  const seen = new Set<string>();
  let at: TreeRow | undefined = tree.activeLeafId === null ? rows.at(-1) : byId.get(tree.activeLeafId);
  while (at && !seen.has(at.id)) {
    seen.add(at.id);
    path.push(at);
    at = at.parent_id === null ? undefined : byId.get(at.parent_id);
  }
  return path.reverse();
}
