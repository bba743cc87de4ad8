/**
 * The messages between the embedded-database driver (`pglite-driver.ts`, on the server's thread)
 * and the thread that runs PGlite (`pglite-thread.ts`). Requests are answered one at a time, in the
 * order they were sent; each reply names the request it answers.
 */

/** What the database thread is started with (its `workerData`). */
export interface ThreadStart {
  /** The data directory, or undefined for a database in memory. */
  dir: string | undefined;
  /** Server settings (`-c name=value` pairs) after PGlite's own start parameters. */
  settings: string[];
  /** A data directory to start from (a tarball from `dumpDataDir`). */
  loadDataDir: Blob | undefined;
}

export type ThreadRequest =
  | { id: number; op: 'query'; sql: string; params: unknown[] }
  | { id: number; op: 'dump' }
  | { id: number; op: 'close' };

export type ThreadReply = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: ThreadError };

/** The first message of a started thread: its database is open, or why it could not be. */
export type ThreadReady = { ready: true } | { ready: false; error: ThreadError };

/**
 * An error as it crosses between threads. A structured clone keeps only an error's message, name
 * and stack; the driver's callers read PostgreSQL's fields too (`code`, `detail`, `constraint` …).
 */
export interface ThreadError {
  message: string;
  name: string;
  fields: Record<string, string | number>;
}

export function toThreadError(err: unknown): ThreadError {
  if (!(err instanceof Error)) return { message: String(err), name: 'Error', fields: {} };
  const fields: Record<string, string | number> = {};
  for (const [key, value] of Object.entries(err)) {
    if (typeof value === 'string' || typeof value === 'number') fields[key] = value;
  }
  return { message: err.message, name: err.name, fields };
}

/** The error again, with its fields, thrown where the request was made (its stack is the caller's). */
export function fromThreadError(error: ThreadError): Error {
  const err = new Error(error.message);
  err.name = error.name;
  return Object.assign(err, error.fields);
}
