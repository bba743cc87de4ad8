/**
 * The saves of streaming assistant text (a checkpoint every 2 s, and a segment's last save), for
 * every turn on this server: the saves made while one statement is in flight go together in the
 * next, one UPDATE of many rows. A thousand streams then checkpoint in a few statements a second
 * instead of five hundred, on PostgreSQL (round trips) and on PGlite (a fixed cost per statement).
 */
import type { Queryable } from '../db/database.js';
import { sharedUpdate } from '../db/shared-statement.js';
import { rowWriteWeight, type RowFlags } from './row-flags.js';

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

const saves = sharedUpdate<TextSave>(
  UPDATE_SQL,
  (all) => [all.map((s) => s.rowId), all.map((s) => s.content), all.map((s) => JSON.stringify(s.flags)), all.map((s) => s.reasoning)],
  // A growing answer is rewritten whole: a statement takes as many as fit its share of work. A
  // finished one is also indexed for search as it is saved (the row is no longer `streaming`).
  { weigh: (s) => rowWriteWeight('assistant', s.flags, s.content.length, s.reasoning?.length ?? 0) },
);

/** Saves a streaming text's row with the other turns' saves of the moment. */
export function saveText(db: Queryable, save: TextSave): Promise<void> {
  return saves.call(db, save);
}
