/**
 * Reads of the display history (`messages`) as the tree they form, always through an owned
 * session: one path root → leaf at a time (the active one by default), paged, each message with
 * its `sibling_ids`. The `Message` wire shape is the chat module's, so every endpoint answers
 * the same shape.
 */
import { z } from 'zod';
import { MessageSchema, toMessage, type MessageRow } from '../chat/message-store.js';
import type { Queryable } from '../db/database.js';

export { MessageSchema, toMessage, type Message } from '../chat/message-store.js';

export const MESSAGE_COLUMNS =
  'id, seq, parent_id, role, content, metadata, tool_call_id, tool_name, tool_arguments, tool_result, tool_success, reasoning, created_at';

/** A message on a path: with the ids of its parent's children (its alternatives), oldest first, itself included. */
export const PathMessageSchema = MessageSchema.extend({ sibling_ids: z.array(z.string()) });
export type PathMessage = z.infer<typeof PathMessageSchema>;

/** The ids and seqs of the path root → `leafId` (default: the active leaf), root first. */
const PATH_SQL = `
WITH RECURSIVE path(id, parent_id, seq, depth) AS (
  SELECT id, parent_id, seq, 0 FROM messages
  WHERE session_id = $1 AND id = COALESCE($2::uuid, (SELECT active_leaf_id FROM sessions WHERE id = $1),
    (SELECT id FROM messages WHERE session_id = $1 ORDER BY seq DESC LIMIT 1))
  UNION ALL
  SELECT m.id, m.parent_id, m.seq, p.depth + 1 FROM messages m JOIN path p ON m.id = p.parent_id
)
SELECT id, seq FROM path ORDER BY depth DESC`;

/** From a message down along its newest child to a leaf. */
const DESCEND_SQL = `
WITH RECURSIVE down(id, depth) AS (
  SELECT id, 0 FROM messages WHERE id = $2 AND session_id = $1
  UNION ALL
  SELECT (SELECT c.id FROM messages c WHERE c.session_id = $1 AND c.parent_id = down.id ORDER BY c.seq DESC LIMIT 1), depth + 1
  FROM down WHERE down.id IS NOT NULL
)
SELECT id FROM down WHERE id IS NOT NULL ORDER BY depth DESC LIMIT 1`;

/** The leaf reached from `messageId` down along the newest child (the message itself when it has none). */
export async function newestLeafUnder(q: Queryable, sessionUuid: string, messageId: string): Promise<string | undefined> {
  const { rows } = await q.query<{ id: string }>(DESCEND_SQL, [sessionUuid, messageId]);
  return rows[0]?.id;
}

/** The path root → `leafId` (default: the active leaf) as ids and seqs, root first. */
export async function pathOf(q: Queryable, sessionUuid: string, leafId?: string): Promise<Array<{ id: string; seq: number }>> {
  const { rows } = await q.query<{ id: string; seq: number }>(PATH_SQL, [sessionUuid, leafId ?? null]);
  return rows.map((r) => ({ id: r.id, seq: Number(r.seq) }));
}

/** The rows `ids` (in that order) with their sibling ids. */
async function withSiblings(q: Queryable, sessionUuid: string, ids: string[]): Promise<PathMessage[]> {
  if (ids.length === 0) return [];
  const { rows } = await q.query<MessageRow>(`SELECT ${MESSAGE_COLUMNS} FROM messages WHERE session_id = $1 AND id = ANY($2::uuid[])`, [sessionUuid, ids]);
  const byId = new Map(rows.map((r) => [r.id, r]));
  const parents = [...new Set(rows.map((r) => r.parent_id).filter((p): p is string => p !== null))];
  const hasRoot = rows.some((r) => r.parent_id === null);
  const { rows: kin } = await q.query<{ id: string; parent_id: string | null }>(
    `SELECT id, parent_id FROM messages WHERE session_id = $1 AND (parent_id = ANY($2::uuid[]) OR ($3::boolean AND parent_id IS NULL)) ORDER BY seq`,
    [sessionUuid, parents, hasRoot],
  );
  const children = new Map<string | null, string[]>();
  for (const k of kin) children.set(k.parent_id, [...(children.get(k.parent_id) ?? []), k.id]);
  return ids.flatMap((id) => {
    const row = byId.get(id);
    return row ? [{ ...toMessage(row), sibling_ids: children.get(row.parent_id) ?? [row.id] }] : [];
  });
}

export interface PathPage {
  messages: PathMessage[];
  /** Messages on the whole path. */
  total: number;
  /** Older messages on the path than the page holds (the newest-first pages). */
  hasOlder: boolean;
}

/** The newest `limit` messages of a path (optionally before `beforeSeq`), root side first. */
export async function newestOnPath(q: Queryable, sessionUuid: string, limit: number, opts: { leafId?: string; beforeSeq?: number } = {}): Promise<PathPage> {
  const path = await pathOf(q, sessionUuid, opts.leafId);
  const before = opts.beforeSeq ?? Number.POSITIVE_INFINITY;
  const older = path.filter((p) => p.seq < before);
  const page = older.slice(Math.max(0, older.length - limit));
  return { messages: await withSiblings(q, sessionUuid, page.map((p) => p.id)), total: path.length, hasOlder: older.length > page.length };
}

/** Messages `offset .. offset+limit` of a path counted from its root. */
export async function pathByOffset(q: Queryable, sessionUuid: string, offset: number, limit: number, leafId?: string): Promise<PathPage> {
  const path = await pathOf(q, sessionUuid, leafId);
  const page = path.slice(offset, offset + limit);
  return { messages: await withSiblings(q, sessionUuid, page.map((p) => p.id)), total: path.length, hasOlder: offset > 0 };
}
