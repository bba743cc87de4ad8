/**
 * Paged reads of the display history (`messages`), always through an owned session. The
 * `Message` wire shape is the chat module's, so every endpoint answers the same shape.
 */
import { toMessage, type Message, type MessageRow } from '../chat/message-store.js';
import type { Queryable } from '../db/database.js';

export { MessageSchema, toMessage, type Message } from '../chat/message-store.js';

export const MESSAGE_COLUMNS =
  'id, seq, role, content, metadata, tool_call_id, tool_name, tool_arguments, tool_result, tool_success, reasoning, created_at';

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
