/**
 * A statement shared by the callers of the moment, per database: the calls made while one is in
 * flight go together in the next (`BatchedCalls`). A burst of a thousand turns then costs a few
 * statements instead of a thousand (each a round trip on PostgreSQL, a fixed cost of its own on
 * PGlite), and a lone call still goes at once.
 */
import { BatchedCalls } from '../util/batched-calls.js';
import type { Queryable } from './database.js';

export class SharedStatement<In, Out, Db extends Queryable = Queryable> {
  readonly #batches = new WeakMap<Db, BatchedCalls<In, Out>>();

  /** `run` answers one output per input, in the same order. */
  constructor(private readonly run: (db: Db, inputs: In[]) => Promise<Out[]>) {}

  call(db: Db, input: In): Promise<Out> {
    let batch = this.#batches.get(db);
    if (!batch) {
      batch = new BatchedCalls<In, Out>((inputs) => this.run(db, inputs));
      this.#batches.set(db, batch);
    }
    return batch.call(input);
  }
}

/** An UPDATE of many rows by id: `sql` takes the ids as `$1::text[]`, then one array per column. */
export function sharedUpdate<In>(sql: string, columns: (inputs: In[]) => unknown[][]): SharedStatement<In, void> {
  return new SharedStatement<In, void>(async (db, inputs) => {
    await db.query(sql, columns(inputs));
    return inputs.map((): void => undefined);
  });
}
