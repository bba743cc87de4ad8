/**
 * The saves of streaming assistant text (a checkpoint every 2 s, and a segment's last save), for
 * every turn on this server: the saves made while one statement is in flight go together in the
 * next, one UPDATE of many rows. A thousand streams then checkpoint in a few statements a second
 * instead of five hundred, on PostgreSQL (round trips) and on PGlite (a fixed cost per statement).
 */
import type { Queryable } from '../db/database.js';
import { BatchedCalls } from '../util/batched-calls.js';
import type { RowFlags } from './row-flags.js';

export interface TextSave {
  rowId: string;
  /** Already storable (`toStorableText`). */
  content: string;
  flags: RowFlags;
  reasoning: string | null;
}

// Arrays of text (ids and metadata cast here): both drivers send text arrays the same way.
const UPDATE_SQL = `
UPDATE messages m SET content = v.content, metadata = v.metadata::jsonb, reasoning = v.reasoning
FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) AS v(id, content, metadata, reasoning)
WHERE m.id = v.id::uuid`;

const writers = new WeakMap<Queryable, BatchedCalls<TextSave, void>>();

/** The database's one batch of text saves (made on first use). */
export function textSaves(db: Queryable): BatchedCalls<TextSave, void> {
  let writer = writers.get(db);
  if (!writer) {
    writer = new BatchedCalls<TextSave, void>(async (saves) => {
      await db.query(UPDATE_SQL, [saves.map((s) => s.rowId), saves.map((s) => s.content), saves.map((s) => JSON.stringify(s.flags)), saves.map((s) => s.reasoning)]);
      return saves.map((): void => undefined);
    });
    writers.set(db, writer);
  }
  return writer;
}
