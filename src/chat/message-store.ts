/**
 * The `messages` display history: the Message wire shape (`toMessage`) and the one insert
 * statement that allocates `seq` and counts the row.
 */
import { z } from 'zod';
import type { Queryable } from '../db/database.js';
import { toStorableObject, toStorableText } from '../util/storable-text.js';
import { ApprovalRecordSchema, MessageStatusSchema, statusOf, type RowFlags } from './row-flags.js';

/** A row of `messages` as the database returns it. */
export interface MessageRow {
  id: string;
  session_id: string;
  seq: number;
  /** The row this one follows in the conversation tree; null for a root. */
  parent_id: string | null;
  role: 'user' | 'assistant' | 'tool_call';
  content: string | null;
  metadata: RowFlags | null;
  tool_call_id: string | null;
  tool_name: string | null;
  tool_arguments: Record<string, unknown> | null;
  tool_result: string | null;
  tool_success: boolean | null;
  reasoning: string | null;
  created_at: Date;
}

/** The REST Message shape — the same shape from every endpoint and after every reload. */
export const MessageSchema = z.object({
  id: z.string(),
  seq: z.number(),
  /** The message this one follows (null for the first of a path). */
  parent_id: z.string().nullable(),
  role: z.enum(['user', 'assistant', 'tool_call']),
  content: z.string().nullable(),
  created_at: z.string(),
  partial: z.boolean(),
  tool_call_id: z.string().nullable(),
  tool_name: z.string().nullable(),
  tool_arguments: z.record(z.string(), z.unknown()).nullable(),
  tool_result: z.string().nullable(),
  tool_success: z.boolean().nullable(),
  status: MessageStatusSchema.nullable(),
  /** The model's reasoning before this assistant text (display only; `content` may then be empty). */
  reasoning: z.string().nullable(),
  /** A tool call that needed approval: the decision, who made it and when (src/approvals). */
  approval: ApprovalRecordSchema.nullable().optional(),
  /** The files sent with a user message (workspace path, media type, size in bytes). */
  attachments: z.array(z.object({ file: z.string(), content_type: z.string(), size: z.number() })).optional(),
});
export type Message = z.infer<typeof MessageSchema>;

export function toMessage(row: MessageRow): Message {
  return {
    id: row.id,
    seq: Number(row.seq),
    parent_id: row.parent_id ?? null,
    role: row.role,
    content: row.content,
    created_at: (row.created_at instanceof Date ? row.created_at : new Date(row.created_at)).toISOString(),
    partial: row.metadata?.partial === true,
    tool_call_id: row.tool_call_id,
    tool_name: row.tool_name,
    tool_arguments: row.tool_arguments,
    tool_result: row.tool_result,
    tool_success: row.tool_success,
    status: statusOf(row.role, row.metadata ?? {}, row.tool_success),
    reasoning: row.reasoning ?? null,
    ...(row.metadata?.approval ? { approval: row.metadata.approval } : {}),
    ...(row.metadata?.attachments ? { attachments: row.metadata.attachments } : {}),
  };
}

export interface NewMessage {
  role: MessageRow['role'];
  content?: string | null;
  metadata?: RowFlags;
  tool_call_id?: string | null;
  tool_name?: string | null;
  tool_arguments?: Record<string, unknown> | null;
  tool_result?: string | null;
  tool_success?: boolean | null;
  reasoning?: string | null;
}

const INSERT_SQL = `
WITH ins AS (
  INSERT INTO messages (session_id, seq, role, content, metadata, tool_call_id, tool_name, tool_arguments, tool_result, tool_success, reasoning, parent_id)
  VALUES ($1, (SELECT COALESCE(MAX(seq), 0) + 1 FROM messages WHERE session_id = $1), $2, $3, $4, $5, $6, $7, $8, $9, $10,
    CASE WHEN $11::boolean THEN (SELECT active_leaf_id FROM sessions WHERE id = $1) ELSE $12::uuid END)
  RETURNING *
), counted AS (
  UPDATE sessions SET message_count = message_count + 1, last_used_at = now(), active_leaf_id = (SELECT id FROM ins) WHERE id = $1
)
SELECT * FROM ins`;

/** Model-made text with U+0000 or lone surrogates replaced (see `util/storable-text.ts`). */
const storable = (text: string | null | undefined): string | null => (text == null ? null : toStorableText(text));

/** Where a row goes in the tree: after the session's active leaf, or after `parentId` (null: a new root). */
export type RowPlace = { follow: 'leaf' } | { parentId: string | null };
export const AFTER_LEAF: RowPlace = { follow: 'leaf' };

/**
 * Inserts one row, counts it in `sessions.message_count` and makes it the session's active leaf,
 * in one statement. Its parent is the active leaf (default) or `place.parentId`. `seq` is MAX+1 at
 * insert time, so rows sort in the order they were inserted; the turn coordinator guarantees one
 * writer per session (summarization runs inside the turn, and the active leaf cannot be switched
 * while a turn runs), so a turn's rows form one chain.
 */
export async function insertMessage(q: Queryable, sessionUuid: string, m: NewMessage, place: RowPlace = AFTER_LEAF): Promise<MessageRow> {
  const { rows } = await q.query<MessageRow>(INSERT_SQL, [
    sessionUuid,
    m.role,
    // The model's text and tool calls can hold U+0000 or a lone surrogate, which PostgreSQL
    // refuses; they are saved with U+FFFD instead of failing the turn (user input is refused earlier).
    storable(m.content),
    m.metadata ?? {},
    storable(m.tool_call_id),
    storable(m.tool_name),
    // jsonb: objects go as JSON text already; an empty object must not become SQL NULL.
    m.tool_arguments == null ? null : toStorableObject(m.tool_arguments),
    storable(m.tool_result),
    m.tool_success ?? null,
    storable(m.reasoning),
    'follow' in place,
    'parentId' in place ? place.parentId : null,
  ]);
  const row = rows[0];
  if (!row) throw new Error('insert into messages returned no row');
  return row;
}

/** The session's rows in `seq` order (tests and reloads). */
export async function listMessages(q: Queryable, sessionUuid: string): Promise<Message[]> {
  const { rows } = await q.query<MessageRow>('SELECT * FROM messages WHERE session_id = $1 ORDER BY seq', [sessionUuid]);
  return rows.map(toMessage);
}
