/**
 * The embedded driver: PGlite (PostgreSQL compiled to WASM) on disk, run on a thread of its own
 * (`pglite-thread.ts`). PGlite runs each statement synchronously on the thread that calls it; on
 * the server's event loop that held every stream, socket and timer still for each statement's
 * whole length, and kept the database's work on the core the server already saturated. PGlite has
 * one connection, so every statement and every transaction takes one mutex here: a transaction
 * never interleaves with another caller's statements.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { SerialQueue } from '../util/serial-queue.js';
import { lockDataDir } from './data-dir-lock.js';
import { isChangedResultType } from './errors.js';
import { fromThreadError, type ThreadReady, type ThreadReply, type ThreadRequest, type ThreadStart } from './pglite-protocol.js';
import { normalizeParams, type Database, type Queryable, type QueryResult, type SqlParam } from './database.js';

/**
 * PostgreSQL's 128 MB of shared buffers are sized for a server with many connections; PGlite runs
 * one backend inside this process, where they would be resident memory of Pulp's own. 16 MB holds
 * the working set of a small installation; the operating system's page cache still caches the data
 * files beneath it.
 *
 * Generic plans for the prepared statements (`pglite-prepared.ts`): PostgreSQL would plan the
 * turn's statements again on every call, judging a plan for arrays of unknown length costlier than
 * one for the array at hand, and planning is most of what they cost here (the turn start 1.3 →
 * 0.6 ms). Their plans are the same for one row or five hundred; the search queries, the one kind
 * whose plan could depend on its values, measured the same (`npm run bench:search`).
 *
 * A small pending list for the GIN (full-text) indexes: new entries wait in the list until it
 * outgrows `gin_pending_list_limit`, and the statement that outgrows it merges the whole list into
 * the index. PostgreSQL's autovacuum does that merge in the background; PGlite has no autovacuum,
 * and its one connection does it inside the statement, so a merge of the default 4 MB held every
 * statement behind it (turn starts, checkpoints) for about 350 ms, and when PGlite ran on the
 * event loop every stream too (a thousand answers ending together, `npm run bench:streams --
 * 1000`). At 64 kB a merge takes a few milliseconds, and all of them together cost about the same.
 *
 * New WAL segments are not filled with zeros first (`wal_init_zero`): every 16 MB of WAL the
 * statement that crossed into a new segment wrote 16 MB of zeros through the emulated file system,
 * about 300 ms in which no other statement ran (final saves of 520 answers in batches of 4: the
 * worst statement 286 ms with the zeros, 28 ms without). The zeros reserve the segment's
 * space, so that a full disk fails its creation rather than a later write into it; without them
 * PostgreSQL writes only the segment's last byte, as it is advised to on copy-on-write file systems.
 */
const EMBEDDED_SETTINGS = ['-c', 'shared_buffers=16MB', '-c', 'plan_cache_mode=force_generic_plan', '-c', 'gin_pending_list_limit=64kB', '-c', 'wal_init_zero=off'];

/**
 * A worker thread running `module` (a file beside this one). From source (tests, `npm run dev`)
 * the thread loads TypeScript through tsx, as the server itself does; compiled, plain JavaScript.
 */
function threadOf(module: string, workerData: unknown): Worker {
  const fromSource = import.meta.url.endsWith('.ts');
  return new Worker(new URL(`./${module}${fromSource ? '.ts' : '.js'}`, import.meta.url), {
    workerData,
    ...(fromSource ? { execArgv: ['--import', pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href] } : {}),
  });
}

/** A new cluster in `dir`, made by `pglite-init-worker` in a worker thread (see there why). */
async function initializeInWorker(dir: string): Promise<void> {
  const worker = threadOf('pglite-init-worker', { dir, settings: EMBEDDED_SETTINGS });
  await new Promise<void>((resolve, reject) => {
    worker.once('error', reject);
    worker.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`initializing the embedded database failed (exit ${code})`))));
  });
}

export interface PgliteOptions {
  /**
   * Starts from this copy of a data directory (a tarball from `dumpDataDir`) instead of an empty
   * cluster: the tests migrate one database and start each file's from a copy of it.
   */
  loadDataDir?: Blob;
}

/** A PGlite database, which can also copy its whole data directory out. */
export interface PgliteDatabase extends Database {
  /** The data directory as an uncompressed tarball, for `PgliteOptions.loadDataDir`. */
  dumpDataDir(): Promise<Blob>;
}

/**
 * The thread that runs PGlite (`pglite-thread.ts`), and its requests waiting for an answer. The
 * thread keeps the process alive only while a request waits (a script that awaits a statement
 * must not exit under it; an idle server's shutdown must not wait for it).
 */
class DatabaseThread {
  readonly #worker: Worker;
  readonly #waiting = new Map<number, { resolve: (value: unknown) => void; reject: (err: Error) => void }>();
  #next = 0;
  /** Why the thread is gone, once it is. */
  #gone: string | undefined;

  private constructor(worker: Worker) {
    this.#worker = worker;
    worker.on('message', (reply: ThreadReply) => {
      const waiter = this.#waiting.get(reply.id);
      if (!waiter) return;
      this.#settled(reply.id);
      if (reply.ok) waiter.resolve(reply.value);
      else waiter.reject(fromThreadError(reply.error));
    });
    // A thread that dies (out of memory, a WebAssembly abort) fails what waits, as a lost connection does.
    const end = (why: string) => {
      this.#gone ??= why;
      for (const waiter of this.#waiting.values()) waiter.reject(this.#goneError());
      this.#waiting.clear();
    };
    worker.on('error', (err: Error) => end(`the embedded database stopped: ${err.message}`));
    worker.on('exit', (code) => end(`the embedded database's thread exited (${code})`));
  }

  /** Starts the thread; resolves once its database is open. */
  static async start(start: ThreadStart): Promise<DatabaseThread> {
    const worker = threadOf('pglite-thread', start);
    const ready = await new Promise<ThreadReady>((resolve, reject) => {
      const failed = (err: Error) => reject(err);
      const exited = (code: number) => reject(new Error(`the embedded database's thread exited (${code}) before it opened`));
      worker.once('error', failed).once('exit', exited);
      worker.once('message', (message: ThreadReady) => {
        worker.off('error', failed).off('exit', exited);
        resolve(message);
      });
    });
    if (!ready.ready) {
      await worker.terminate();
      throw fromThreadError(ready.error);
    }
    worker.unref();
    return new DatabaseThread(worker);
  }

  /** Sends `request` (with a fresh id) and resolves with the thread's answer. */
  ask<T>(request: DistributiveOmit<ThreadRequest, 'id'>): Promise<T> {
    if (this.#gone) return Promise.reject(this.#goneError());
    const id = ++this.#next;
    return new Promise<T>((resolve, reject) => {
      this.#waiting.set(id, { resolve: resolve as (value: unknown) => void, reject });
      if (this.#waiting.size === 1) this.#worker.ref();
      try {
        this.#worker.postMessage({ ...request, id });
      } catch (err) {
        // A parameter that cannot be copied to the thread (a function in an array) fails here.
        this.#settled(id);
        reject(err instanceof Error ? err : new Error(String(err)));
      }
    });
  }

  /** Forgets a request that has its answer; the thread stops holding the process open when none waits. */
  #settled(id: number): void {
    this.#waiting.delete(id);
    if (this.#waiting.size === 0) this.#worker.unref();
  }

  /** Ends the thread (after its database closed, or when it did not answer). */
  async end(): Promise<void> {
    this.#gone ??= 'the embedded database is closed';
    await this.#worker.terminate();
  }

  // "Connection terminated" makes it a lost connection for `errors.ts`: retried, then DB_8002.
  #goneError(): Error {
    return new Error(`Connection terminated: ${this.#gone ?? 'the embedded database is gone'}`);
  }
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** Opens PGlite in `dir` (created if missing), or in memory when `dir` is undefined. */
export async function createPgliteDatabase(dir: string | undefined, options: PgliteOptions = {}): Promise<PgliteDatabase> {
  if (dir) mkdirSync(dir, { recursive: true });
  const unlock = dir ? lockDataDir(dir) : () => undefined;
  let thread: DatabaseThread;
  try {
    if (dir && !existsSync(path.join(dir, 'PG_VERSION'))) await initializeInWorker(dir);
    thread = await DatabaseThread.start({ dir, settings: EMBEDDED_SETTINGS, loadDataDir: options.loadDataDir });
  } catch (err) {
    unlock();
    throw err;
  }
  const mutex = new SerialQueue();
  let closed = false;

  const run = <Row>(sql: string, params?: readonly SqlParam[]): Promise<QueryResult<Row>> =>
    thread.ask<QueryResult<Row>>({ op: 'query', sql, params: normalizeParams(params) });

  /**
   * Runs `unit` (a statement, or a whole transaction) once more when a statement in it was
   * prepared before its table changed: `PreparedStatements` forgot it, so it is prepared again.
   * A transaction cannot retry the statement in place: its failure ended the transaction.
   */
  const againIfStale = async <T>(unit: () => Promise<T>): Promise<T> => {
    try {
      return await unit();
    } catch (err) {
      if (!isChangedResultType(err)) throw err;
      return unit();
    }
  };

  return {
    driver: 'pglite',
    query: (sql, params) => againIfStale(() => mutex.run(() => run(sql, params))),
    transaction: (fn) =>
      againIfStale(() =>
        mutex.run(async () => {
          await run('BEGIN');
          try {
            const tx: Queryable = { query: (sql, params) => run(sql, params) };
            const value = await fn(tx);
            await run('COMMIT');
            return value;
          } catch (err) {
            await run('ROLLBACK');
            throw err;
          }
        }),
      ),
    async ping() {
      if (closed) throw new Error('Connection terminated: database closed');
      await mutex.run(() => run('SELECT 1'));
    },
    poolStats: () => ({ total: 1, idle: mutex.pending === 0 ? 1 : 0, waiting: Math.max(0, mutex.pending - 1) }),
    dumpDataDir: () => mutex.run(() => thread.ask<Blob>({ op: 'dump' })),
    async close() {
      if (closed) return;
      closed = true;
      try {
        await mutex.run(() => thread.ask({ op: 'close' }));
      } finally {
        await thread.end();
        unlock();
      }
    },
  };
}
