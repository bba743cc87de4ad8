/**
 * The embedded driver: PGlite (PostgreSQL compiled to WASM) on disk. PGlite has one connection,
 * so every statement and every transaction takes one mutex: a transaction never interleaves with
 * another caller's statements. Statements with parameters run as prepared statements.
 */
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { PGlite } from '@electric-sql/pglite';
import { SerialQueue } from '../util/serial-queue.js';
import { lockDataDir } from './data-dir-lock.js';
import { isChangedResultType } from './errors.js';
import { LoopShare } from './loop-share.js';
import { PreparedStatements } from './pglite-prepared.js';
import { normalizeParams, type Database, type Queryable, type QueryResult, type SqlParam } from './database.js';

const INT8_OID = 20;

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
 * and it runs on the event loop, so a merge of the default 4 MB held every stream still for about
 * 350 ms (a thousand answers ending together, `npm run bench:streams -- 1000`). At 64 kB a merge
 * takes a few milliseconds, and all of them together cost about the same.
 *
 * New WAL segments are not filled with zeros first (`wal_init_zero`): every 16 MB of WAL the
 * statement that crossed into a new segment wrote 16 MB of zeros through the emulated file system,
 * on the event loop — about 300 ms in which no stream moved (final saves of 520 answers in batches
 * of 4: the worst statement 286 ms with the zeros, 28 ms without). The zeros reserve the segment's
 * space, so that a full disk fails its creation rather than a later write into it; without them
 * PostgreSQL writes only the segment's last byte, as it is advised to on copy-on-write file systems.
 */
const EMBEDDED_SETTINGS = ['-c', 'shared_buffers=16MB', '-c', 'plan_cache_mode=force_generic_plan', '-c', 'gin_pending_list_limit=64kB', '-c', 'wal_init_zero=off'];

/** A new cluster in `dir`, made by `pglite-init-worker` in a worker thread (see there why). */
async function initializeInWorker(dir: string): Promise<void> {
  const extension = import.meta.url.endsWith('.ts') ? '.ts' : '.js';
  const worker = new Worker(new URL(`./pglite-init-worker${extension}`, import.meta.url), {
    workerData: { dir, startParams: [...PGlite.defaultStartParams, ...EMBEDDED_SETTINGS] },
  });
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

/** Opens PGlite in `dir` (created if missing), or in memory when `dir` is undefined. */
export async function createPgliteDatabase(dir: string | undefined, options: PgliteOptions = {}): Promise<PgliteDatabase> {
  if (dir) mkdirSync(dir, { recursive: true });
  const unlock = dir ? lockDataDir(dir) : () => undefined;
  let pglite: PGlite;
  try {
    if (dir && !existsSync(path.join(dir, 'PG_VERSION'))) await initializeInWorker(dir);
    pglite = await PGlite.create(dir ?? 'memory://', {
      parsers: { [INT8_OID]: (value: string) => Number(value) },
      startParams: [...PGlite.defaultStartParams, ...EMBEDDED_SETTINGS],
      ...(options.loadDataDir ? { loadDataDir: options.loadDataDir } : {}),
    });
  } catch (err) {
    unlock();
    throw err;
  }
  const mutex = new SerialQueue();
  const prepared = new PreparedStatements(pglite);
  let closed = false;

  const run = async <Row>(sql: string, params?: readonly SqlParam[]): Promise<QueryResult<Row>> => {
    if (params === undefined || params.length === 0) {
      // exec allows several statements (migrations); it returns one result per statement.
      if (!/\$\d/.test(sql)) {
        const results = await pglite.exec(sql);
        const last = results[results.length - 1];
        return { rows: (last?.rows ?? []) as Row[], rowCount: last?.affectedRows ?? last?.rows.length ?? 0 };
      }
    }
    const result = await prepared.query<Row>(sql, normalizeParams(params));
    return { rows: result.rows, rowCount: result.affectedRows ?? result.rows.length };
  };

  const loop = new LoopShare();
  /** Runs `task` in its turn, once the event loop has turned since the last statement. */
  const inTurn = <T>(task: () => Promise<T>): Promise<T> =>
    mutex.run(async () => {
      await loop.turn();
      return task();
    });
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
    query: (sql, params) => againIfStale(() => inTurn(() => run(sql, params))),
    transaction: (fn) =>
      againIfStale(() =>
        inTurn(async () => {
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
      await inTurn(() => run('SELECT 1'));
    },
    poolStats: () => ({ total: 1, idle: mutex.pending === 0 ? 1 : 0, waiting: Math.max(0, mutex.pending - 1) }),
    dumpDataDir: () => mutex.run(() => pglite.dumpDataDir('none')),
    async close() {
      if (closed) return;
      closed = true;
      try {
        await mutex.run(() => pglite.close());
      } finally {
        unlock();
      }
    },
  };
}
