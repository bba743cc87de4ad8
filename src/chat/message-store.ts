/**
 * The `messages` display history: the Message wire shape (`toMessage`), the one insert
 * statement that allocates `seq` and counts the row, and the per-turn writer that saves assistant
 * text segments (checkpointed, never per delta) and tool-call rows in the order they happened.
 */
import type { Logger } from 'pino';
import { z } from 'zod';
import type { Queryable } from '../db/database.js';
import { MessageStatusSchema, statusOf, type RowFlags } from './row-flags.js';

/** A row of `messages` as the database returns it. */
export interface MessageRow {
  id: string;
  session_id: string;
  seq: number;
  role: 'user' | 'assistant' | 'tool_call';
  content: string | null;
  metadata: RowFlags | null;
  tool_call_id: string | null;
  tool_name: string | null;
  tool_arguments: Record<string, unknown> | null;
  tool_result: string | null;
  tool_success: boolean | null;
  created_at: Date;
}

/** The REST Message shape — the same shape from every endpoint and after every reload. */
export const MessageSchema = z.object({
  id: z.string(),
  seq: z.number(),
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
});
export type Message = z.infer<typeof MessageSchema>;

export function toMessage(row: MessageRow): Message {
  return {
    id: row.id,
    seq: Number(row.seq),
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
}

const INSERT_SQL = `
WITH ins AS (
  INSERT INTO messages (session_id, seq, role, content, metadata, tool_call_id, tool_name, tool_arguments, tool_result, tool_success)
  VALUES ($1, (SELECT COALESCE(MAX(seq), 0) + 1 FROM messages WHERE session_id = $1), $2, $3, $4, $5, $6, $7, $8, $9)
  RETURNING *
), counted AS (
  UPDATE sessions SET message_count = message_count + 1, last_used_at = now() WHERE id = $1
)
SELECT * FROM ins`;

/**
 * Inserts one row at the end of the session's history and counts it in `sessions.message_count`,
 * in one statement. `seq` is MAX+1 at insert time, so rows sort in the order they were inserted;
 * the turn coordinator guarantees one writer per session (summarization runs inside the turn).
 */
export async function insertMessage(q: Queryable, sessionUuid: string, m: NewMessage): Promise<MessageRow> {
  const { rows } = await q.query<MessageRow>(INSERT_SQL, [
    sessionUuid,
    m.role,
    m.content ?? null,
    m.metadata ?? {},
    m.tool_call_id ?? null,
    m.tool_name ?? null,
    // jsonb: objects go as JSON text already; an empty object must not become SQL NULL.
    m.tool_arguments ?? null,
    m.tool_result ?? null,
    m.tool_success ?? null,
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

/** How often a streaming assistant text is saved (a crash loses at most 2 s). */
export const CHECKPOINT_INTERVAL_MS = 2_000;

interface ToolRowState {
  name: string;
  rowId: Promise<string | undefined>;
  completed: boolean;
}

/**
 * One turn's writer. Writes run one after another on a queue (so `seq` follows the order of
 * calls) and never block the stream; `flush()` waits for them and reports the first failure.
 */
export class TurnMessageWriter {
  #queue: Promise<unknown> = Promise.resolve();
  #error: unknown;
  #text = '';
  #textOpen = false;
  #textRowId: Promise<string | undefined> | undefined;
  #savedLength = -1;
  #timer: NodeJS.Timeout | undefined;
  #tools = new Map<string, ToolRowState>();

  constructor(
    private readonly db: Queryable,
    private readonly sessionUuid: string,
    private readonly logger: Logger,
    private readonly checkpointMs = CHECKPOINT_INTERVAL_MS,
  ) {}

  /** Text of the segment being streamed (empty when none is open). */
  get openText(): string {
    return this.#textOpen ? this.#text : '';
  }

  appendText(delta: string): void {
    if (delta === '') return;
    if (!this.#textOpen) {
      this.#textOpen = true;
      this.#text = '';
      this.#textRowId = undefined;
      this.#savedLength = -1;
    }
    this.#text += delta;
    this.#timer ??= setTimeout(() => this.#checkpoint(), this.checkpointMs).unref();
  }

  /** Ends the open text segment (before a tool call, or at the end of the turn). */
  closeText(end: { partial: boolean; status?: 'interrupted' | 'failed' } = { partial: false }): void {
    this.#clearTimer();
    if (!this.#textOpen) return;
    this.#textOpen = false;
    const metadata = end.partial ? { partial: true, status: end.status ?? 'interrupted' } : {};
    this.#saveText(this.#text, metadata);
  }

  toolStarted(callId: string, name: string, args: Record<string, unknown>): void {
    if (this.#tools.has(callId)) return;
    this.closeText();
    const rowId = this.#enqueue(async () => {
      const row = await insertMessage(this.db, this.sessionUuid, {
        role: 'tool_call',
        tool_call_id: callId,
        tool_name: name,
        tool_arguments: args,
        metadata: { status: null },
      });
      return row.id;
    });
    this.#tools.set(callId, { name, rowId, completed: false });
  }

  toolCompleted(callId: string, result: string, success: boolean, interrupted = false): void {
    const state = this.#tools.get(callId);
    if (!state || state.completed) return;
    state.completed = true;
    const metadata = interrupted ? { interrupted: true, status: 'interrupted' } : {};
    void this.#enqueue(async () => {
      const id = await state.rowId;
      if (!id) return undefined;
      await this.db.query('UPDATE messages SET tool_result = $2, tool_success = $3, metadata = $4 WHERE id = $1', [id, result, success, metadata]);
      return undefined;
    });
  }

  /** Started tool calls that have not completed, oldest first. */
  openToolCalls(): Array<{ callId: string; name: string }> {
    return [...this.#tools].filter(([, s]) => !s.completed).map(([callId, s]) => ({ callId, name: s.name }));
  }

  isToolStarted(callId: string): boolean {
    return this.#tools.has(callId);
  }

  /** Waits for every queued write; throws the first write error. */
  async flush(): Promise<void> {
    await this.#queue;
    if (this.#error) throw this.#error;
  }

  /** Stops the checkpoint timer (the turn is over). */
  dispose(): void {
    this.#clearTimer();
  }

  #checkpoint(): void {
    this.#timer = undefined;
    if (!this.#textOpen) return;
    this.#saveText(this.#text, { partial: true, status: 'interrupted', streaming: true });
    this.#timer = setTimeout(() => this.#checkpoint(), this.checkpointMs).unref();
  }

  /** INSERT once per segment, then UPDATE the same row; skip when nothing changed. */
  #saveText(text: string, metadata: Record<string, unknown>): void {
    if (text.length === this.#savedLength && metadata.streaming) return;
    this.#savedLength = text.length;
    const existing = this.#textRowId;
    this.#textRowId = this.#enqueue(async () => {
      const id = existing ? await existing : undefined;
      if (id) {
        await this.db.query('UPDATE messages SET content = $2, metadata = $3 WHERE id = $1', [id, text, metadata]);
        return id;
      }
      const row = await insertMessage(this.db, this.sessionUuid, { role: 'assistant', content: text, metadata });
      return row.id;
    });
  }

  #enqueue(fn: () => Promise<string | undefined>): Promise<string | undefined> {
    const run = this.#queue.then(fn).catch((err: unknown) => {
      this.#error ??= err;
      this.logger.error({ err }, 'saving a message failed');
      return undefined;
    });
    this.#queue = run;
    return run;
  }

  #clearTimer(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
