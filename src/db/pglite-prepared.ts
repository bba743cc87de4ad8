/**
 * Named prepared statements on PGlite. `PGlite.query` parses, analyses and plans its statement on
 * every call; for the turn's statements (CTEs over `unnest` arrays) that is most of their cost:
 * the turn start took 1.3 ms of which about 0.3 ms was its execution. A statement run here is
 * parsed once per database under a name of its own; each call then only binds and executes it
 * (with the generic plans the driver asks for, see `pglite-driver.ts`: 0.6 ms).
 *
 * The protocol exchange is PGlite's own for `query` (bind, describe the portal, execute, sync),
 * over `execProtocol`, with PGlite's serialisers for the parameters and its parser for the rows,
 * so values come back exactly as `query` returns them.
 */
import { parse as results, protocol, type PGlite, type Results } from '@electric-sql/pglite';
import { isChangedResultType } from './errors.js';

const { serialize } = protocol;

/** At most this many statements stay prepared by default. */
const MAX_PREPARED = 200;

type BackendMessages = Awaited<ReturnType<PGlite['execProtocol']>>['messages'];

interface Prepared {
  name: string;
  /** The parameter types PostgreSQL inferred, by position (OIDs). */
  types: number[];
}

export class PreparedStatements {
  readonly #prepared = new Map<string, Prepared>();
  #next = 0;

  /** `limit`: statements kept prepared; one more forgets them all (Pulp's own are far fewer). */
  constructor(
    private readonly pglite: PGlite,
    private readonly limit = MAX_PREPARED,
  ) {}

  /**
   * Runs `sql` with `params` as a prepared statement: the rows, as `PGlite.query` gives them. A
   * statement whose table changed under its `SELECT *` (a migration after it was prepared) can no
   * longer answer: it is forgotten and its error thrown, and the caller's next run prepares it
   * again from its text (the driver runs the statement, or its whole transaction, once more).
   */
  async query<Row>(sql: string, params: readonly unknown[]): Promise<Results<Row>> {
    try {
      return await this.#run<Row>(sql, params);
    } catch (err) {
      if (isChangedResultType(err)) await this.#forget(sql);
      throw err;
    }
  }

  async #run<Row>(sql: string, params: readonly unknown[]): Promise<Results<Row>> {
    const statement = this.#prepared.get(sql) ?? (await this.#prepare(sql));
    const values = params.map((value, i) => this.#serialize(value, statement.types[i]));
    const messages = await this.#exchange(
      [serialize.bind({ statement: statement.name, values }), serialize.describe({ type: 'P' }), serialize.execute({})],
      !this.pglite.isInTransaction(),
    );
    return results.parseResults(messages, this.pglite.parsers)[0] as Results<Row>;
  }

  async #prepare(sql: string): Promise<Prepared> {
    if (this.#prepared.size >= this.limit) await this.#forgetAll();
    this.#next += 1;
    const name = `pulp_${this.#next}`;
    const messages = await this.#exchange([serialize.parse({ name, text: sql }), serialize.describe({ type: 'S', name })], false);
    const prepared = { name, types: results.parseDescribeStatementResults(messages) };
    this.#prepared.set(sql, prepared);
    return prepared;
  }

  async #forget(sql: string): Promise<void> {
    const statement = this.#prepared.get(sql);
    if (!statement) return;
    this.#prepared.delete(sql);
    await this.#exchange([serialize.close({ type: 'S', name: statement.name })], false);
  }

  async #forgetAll(): Promise<void> {
    const names = [...this.#prepared.values()].map((p) => p.name);
    this.#prepared.clear();
    await this.#exchange(
      names.map((name) => serialize.close({ type: 'S', name })),
      false,
    );
  }

  /**
   * Sends `parts` in order, then a Sync, also after an error (as `PGlite.query` does: the backend
   * skips to the Sync and is ready again). The messages that came back, the Sync's included.
   */
  async #exchange(parts: readonly Uint8Array[], syncToFs: boolean): Promise<BackendMessages> {
    const messages: BackendMessages = [];
    try {
      for (const part of parts) messages.push(...(await this.pglite.execProtocol(part, { syncToFs: false })).messages);
    } finally {
      messages.push(...(await this.pglite.execProtocol(serialize.sync(), { syncToFs })).messages);
    }
    return messages;
  }

  /** A parameter as PGlite's `query` sends it: its type's serialiser, else its text. */
  #serialize(value: unknown, type: number | undefined): string | null {
    if (value === null || value === undefined) return null;
    const serializer = type === undefined ? undefined : this.pglite.serializers[type];
    // The driver passes strings, numbers, booleans, Dates, Buffers and arrays (objects arrive as JSON text).
    return serializer ? serializer(value) : (value as { toString(): string }).toString();
  }
}
