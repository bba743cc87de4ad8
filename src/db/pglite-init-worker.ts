/**
 * Creates a new embedded database cluster (PGlite's initdb) in `workerData.dir`, then exits.
 *
 * Run in a worker thread by `pglite-driver.ts` the first time a data directory is opened. initdb
 * builds the whole cluster inside WebAssembly and leaves several hundred megabytes of buffers
 * behind that the garbage collector returns only at its own pace; in a worker they go away with
 * the worker, and the server's event loop stays free meanwhile. It imports nothing of Pulp's own,
 * so Node can run it from source (type stripping) as well as compiled.
 */
import { workerData } from 'node:worker_threads';
import { PGlite } from '@electric-sql/pglite';

const { dir, settings } = workerData as { dir: string; settings: string[] };
const pglite = await PGlite.create(dir, { startParams: [...PGlite.defaultStartParams, ...settings] });
await pglite.close();
