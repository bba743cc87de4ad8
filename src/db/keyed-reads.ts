/**
 * One read asked for many keys at once (a session's files, its approval policies): the reads made
 * while one statement is in flight go together in the next. Its SQL takes the keys as `$1::text[]`
 * and answers each row with the `key` it belongs to; a lone read still goes at once.
 */
import { BatchedCalls } from '../util/batched-calls.js';
import type { Queryable } from './database.js';

export class KeyedReads<Row extends { key: string }> {
  readonly #batches = new WeakMap<Queryable, BatchedCalls<string, Row[]>>();

  constructor(private readonly sql: string) {}

  /** The rows of `key`, read with the other keys asked for meanwhile. */
  read(db: Queryable, key: string): Promise<Row[]> {
    let batch = this.#batches.get(db);
    if (!batch) {
      batch = new BatchedCalls<string, Row[]>(async (keys) => {
        // A key asked for twice (one user's many turns) is read once.
        const { rows } = await db.query<Row>(this.sql, [[...new Set(keys)]]);
        const byKey = new Map<string, Row[]>();
        for (const row of rows) byKey.set(row.key, [...(byKey.get(row.key) ?? []), row]);
        return keys.map((k) => byKey.get(k) ?? []);
      });
      this.#batches.set(db, batch);
    }
    return batch.call(key);
  }
}
