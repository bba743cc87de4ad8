/**
 * One read asked for many keys at once (a session's files, its approval policies): the reads made
 * while one statement is in flight go together in the next (`SharedStatement`). Its SQL takes the
 * keys as `$1::text[]` and answers each row with the `key` it belongs to.
 */
import type { Queryable } from './database.js';
import { SharedStatement } from './shared-statement.js';

export class KeyedReads<Row extends { key: string }> {
  readonly #statement: SharedStatement<string, Row[]>;

  constructor(sql: string) {
    this.#statement = new SharedStatement<string, Row[]>(async (db, keys) => {
      // A key asked for twice (one user's many turns) is read once.
      const { rows } = await db.query<Row>(sql, [[...new Set(keys)]]);
      const byKey = new Map<string, Row[]>();
      for (const row of rows) {
        const own = byKey.get(row.key);
        if (own) own.push(row);
        else byKey.set(row.key, [row]);
      }
      return keys.map((k) => byKey.get(k) ?? []);
    });
  }

  /** The rows of `key`, read with the other keys asked for meanwhile. */
  read(db: Queryable, key: string): Promise<Row[]> {
    return this.#statement.call(db, key);
  }
}
