/**
 * A turn's rows after the active leaf (its answer's text, its tool calls), inserted with the rows
 * other turns insert meanwhile: one statement numbers each after its own session's last row, hangs
 * it on that session's active leaf, and makes it the leaf — as `insertMessage` does for one row.
 * A thousand answers starting at once then cost a few statements (`sessionRows`: a session twice in
 * one batch, or a failed batch, go one row at a time through `insertMessage`).
 */
import type { Queryable } from '../db/database.js';
import { sessionRows, valueOf, type Settled } from '../db/shared-statement.js';
import { toStorableObject, toStorableText } from '../util/storable-text.js';
import { insertMessage, type MessageRow, type NewMessage } from './message-store.js';
import { rowWriteWeight } from './row-flags.js';

interface RowInsert {
  sessionUuid: string;
  row: NewMessage;
}

const INSERT_MANY_SQL = `
WITH req AS (
  SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::boolean[], $10::text[])
    AS r(session_id, role, content, metadata, tool_call_id, tool_name, tool_arguments, tool_result, tool_success, reasoning)
),
ins AS (
  INSERT INTO messages (session_id, seq, role, content, metadata, tool_call_id, tool_name, tool_arguments, tool_result, tool_success, reasoning, parent_id)
  SELECT r.session_id::uuid, (SELECT COALESCE(MAX(m.seq), 0) + 1 FROM messages m WHERE m.session_id = r.session_id::uuid),
    r.role, r.content, r.metadata::jsonb, r.tool_call_id, r.tool_name, r.tool_arguments::jsonb, r.tool_result, r.tool_success, r.reasoning,
    (SELECT active_leaf_id FROM sessions WHERE id = r.session_id::uuid)
  FROM req r
  RETURNING *
),
counted AS (
  UPDATE sessions s SET message_count = s.message_count + 1, last_used_at = now(), active_leaf_id = ins.id FROM ins WHERE s.id = ins.session_id
)
SELECT * FROM ins`;

const text = (value: string | null | undefined): string | null => (value == null ? null : toStorableText(value));

function columnsOf(batch: readonly RowInsert[]): unknown[][] {
  const column = <T>(pick: (r: NewMessage) => T) => batch.map((b) => pick(b.row));
  return [
    batch.map((b) => b.sessionUuid),
    column((r) => r.role),
    column((r) => text(r.content)),
    column((r) => JSON.stringify(r.metadata ?? {})),
    column((r) => text(r.tool_call_id)),
    column((r) => text(r.tool_name)),
    column((r) => (r.tool_arguments == null ? null : JSON.stringify(toStorableObject(r.tool_arguments)))),
    column((r) => text(r.tool_result)),
    column((r) => r.tool_success ?? null),
    column((r) => text(r.reasoning)),
  ];
}

const inserts = sessionRows<RowInsert, MessageRow>({
  session: (b) => b.sessionUuid,
  // A complete answer's text is indexed for search as it goes in: the larger part of the work.
  weigh: ({ row }) => rowWriteWeight(row.role, row.metadata, row.content?.length ?? 0, (row.tool_result?.length ?? 0) + (row.reasoning?.length ?? 0)),
  many: async (db, batch) => {
    const { rows } = await db.query<MessageRow>(INSERT_MANY_SQL, columnsOf(batch));
    const bySession = new Map(rows.map((r) => [r.session_id, r]));
    return batch.map((b): Settled<MessageRow> => {
      const row = bySession.get(b.sessionUuid);
      return row ? { value: row } : { error: new Error('insert into messages returned no row') };
    });
  },
  one: (db, b) => insertMessage(db, b.sessionUuid, b.row),
});

/** Inserts `row` after the session's active leaf, with the rows other turns insert meanwhile. */
export async function insertAfterLeaf(db: Queryable, sessionUuid: string, row: NewMessage): Promise<MessageRow> {
  return valueOf(await inserts.call(db, { sessionUuid, row }));
}
