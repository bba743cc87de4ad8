/**
 * A statement shared by the callers of the moment, per database: the calls made while one is in
 * flight go together in the next (`BatchedCalls`). A burst of a thousand turns then costs a few
 * statements instead of a thousand (each a round trip on PostgreSQL, a fixed cost of its own on
 * PGlite); a lone call waits only for the current turn of the event loop.
 */
import { BatchedCalls, type BatchOptions } from '../util/batched-calls.js';
import type { Queryable } from './database.js';

export class SharedStatement<In, Out, Db extends Queryable = Queryable> {
  readonly #batches = new WeakMap<Db, BatchedCalls<In, Out>>();

  /** `run` answers one output per input, in the same order. */
  constructor(
    private readonly run: (db: Db, inputs: In[]) => Promise<Out[]>,
    private readonly options: BatchOptions<In> = {},
  ) {}

  call(db: Db, input: In): Promise<Out> {
    let batch = this.#batches.get(db);
    if (!batch) {
      batch = new BatchedCalls<In, Out>((inputs) => this.run(db, inputs), this.options);
      this.#batches.set(db, batch);
    }
    return batch.call(input);
  }
}

/** An UPDATE of many rows by id: `sql` takes the ids as `$1::text[]`, then one array per column. */
export function sharedUpdate<In>(sql: string, columns: (inputs: In[]) => unknown[][], options: BatchOptions<In> = {}): SharedStatement<In, void> {
  return new SharedStatement<In, void>(async (db, inputs) => {
    await db.query(sql, columns(inputs));
    return inputs.map((): void => undefined);
  }, options);
}

/**
 * Text indexed for search as it is written (a finished answer, a user's message: its `to_tsvector`
 * and its full-text index entries) weighs this many times its plain write. Measured on PGlite: the
 * final saves of 13 answers of 4 KB took 15–30 ms, their checkpoints a quarter of that.
 */
export const INDEXED_TEXT_WEIGHT = 4;

/**
 * The weight of a row a statement writes (`BatchOptions.weigh`): its plain text, its text indexed
 * for search, and a fixed share for the row itself (its index entries, the statement's work per row).
 */
export const rowWeight = (chars: number, indexedChars = 0): number => 1_000 + chars + INDEXED_TEXT_WEIGHT * indexedChars;

/** One call's own outcome in a shared statement. */
export type Settled<Out> = { value: Out } | { error: Error };

/** The value of a settled call, or its error thrown. */
export function valueOf<Out>(settled: Settled<Out>): Out {
  if ('error' in settled) throw settled.error;
  return settled.value;
}

export interface SessionRowsOptions<In, Out, Db extends Queryable> {
  /** The session a call writes to. */
  session: (input: In) => string;
  /** The statement for calls of distinct sessions: each input's outcome, in order. */
  many: (db: Db, inputs: In[]) => Promise<Array<Settled<Out>>>;
  /** The statement for one call. */
  one: (db: Db, input: In) => Promise<Out>;
  /** The work a call adds to a statement (`BatchOptions`). */
  weigh?: (input: In) => number;
}

/**
 * A shared statement that numbers new rows after each session's last one. A session twice in one
 * batch (both rows would get the same number) and a batch whose statement fails go one call at a
 * time, in the order they came, so one bad call (its session deleted meanwhile) cannot fail the
 * others: each call gets its own value or error.
 */
export function sessionRows<In, Out, Db extends Queryable = Queryable>(options: SessionRowsOptions<In, Out, Db>): SharedStatement<In, Settled<Out>, Db> {
  const settle = (p: Promise<Out>): Promise<Settled<Out>> =>
    p.then(
      (value) => ({ value }),
      (err: unknown) => ({ error: err instanceof Error ? err : new Error(String(err)) }),
    );
  return new SharedStatement<In, Settled<Out>, Db>(async (db, inputs) => {
    const oneByOne = async () => {
      const settled: Array<Settled<Out>> = [];
      for (const input of inputs) settled.push(await settle(options.one(db, input)));
      return settled;
    };
    if (new Set(inputs.map(options.session)).size < inputs.length) return oneByOne();
    try {
      return await options.many(db, inputs);
    } catch {
      return oneByOne();
    }
  }, options.weigh ? { weigh: options.weigh } : {});
}
