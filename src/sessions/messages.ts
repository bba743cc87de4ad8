/**
 * The display history as clients see it: the `Message` wire shape (SPEC §4) — the same from every
 * endpoint — and the paged reads of `messages`, always filtered through an owned session.
 */
import { z } from 'zod';
import type { Queryable } from '../db/database.js';

export const MessageSchema = z.object({
  id: z.string(),
  seq: z.number().int(),
  role: z.enum(['user', 'assistant', 'tool_call']),
  content: z.string().nullable(),
  created_at: z.string(),
  partial: z.boolean(),
  tool_call_id: z.string().nullable(),
  tool_name: z.string().nullable(),
  tool_arguments: z.record(z.string(), z.unknown()).nullable(),
  tool_result: z.string().nullable(),
  tool_success: z.boolean().nullable(),
  status: z.enum(['completed', 'failed', 'interrupted']).nullable(),
});
export type Message = z.infer<typeof MessageSchema>;

export interface MessageRow {
  id: string;
  seq: number;
  role: 'user' | 'assistant' | 'tool_call';
  content: string | null;
  metadata: Record<string, unknown> | null;
  tool_call_id: string | null;
  tool_name: string | null;
  tool_arguments: Record<string, unknown> | null;
  tool_result: string | null;
  tool_success: boolean | null;
  created_at: Date;
}

export const MESSAGE_COLUMNS =
  'id, seq, role, content, metadata, tool_call_id, tool_name, tool_arguments, tool_result, tool_success, created_at';

function statusOf(row: MessageRow): Message['status'] {
  const meta = row.metadata ?? {};
  if (meta.interrupted === true || (row.role === 'assistant' && meta.partial === true)) return 'interrupted';
  if (row.role === 'tool_call') {
    if (row.tool_success === null) return null;
    return row.tool_success ? 'completed' : 'failed';
  }
  if (row.role === 'assistant') return meta.error === true ? 'failed' : 'completed';
  return null;
}

export function toMessage(row: MessageRow): Message {
  return {
    id: row.id,
    seq: row.seq,
    role: row.role,
    content: row.content,
    created_at: row.created_at.toISOString(),
    partial: row.metadata?.partial === true,
    tool_call_id: row.tool_call_id,
    tool_name: row.tool_name,
    tool_arguments: row.tool_arguments,
    tool_result: row.tool_result,
    tool_success: row.tool_success,
    status: statusOf(row),
  };
}

/** The newest `limit` messages (optionally before `beforeSeq`), oldest first, and whether older ones exist. */
export async function newestMessages(
  db: Queryable,
  sessionUuid: string,
  limit: number,
  beforeSeq?: number,
): Promise<{ messages: Message[]; hasMore: boolean }> {
  const { rows } = await db.query<MessageRow>(
    `SELECT ${MESSAGE_COLUMNS} FROM messages WHERE session_id = $1 AND seq < $2 ORDER BY seq DESC LIMIT $3`,
    [sessionUuid, beforeSeq ?? Number.MAX_SAFE_INTEGER, limit + 1],
  );
  const hasMore = rows.length > limit;
  return { messages: rows.slice(0, limit).reverse().map(toMessage), hasMore };
}

/** Messages `offset .. offset+limit` counted from the oldest, oldest first. */
export async function messagesByOffset(db: Queryable, sessionUuid: string, offset: number, limit: number): Promise<Message[]> {
  const { rows } = await db.query<MessageRow>(
    `SELECT ${MESSAGE_COLUMNS} FROM messages WHERE session_id = $1 ORDER BY seq ASC OFFSET $2 LIMIT $3`,
    [sessionUuid, offset, limit],
  );
  return rows.map(toMessage);
}

export async function countMessages(db: Queryable, sessionUuid: string, beforeSeq?: number): Promise<number> {
  const { rows } = await db.query<{ n: number }>(
    'SELECT count(*)::int AS n FROM messages WHERE session_id = $1 AND seq < $2',
    [sessionUuid, beforeSeq ?? Number.MAX_SAFE_INTEGER],
  );
  return rows[0]?.n ?? 0;
}
