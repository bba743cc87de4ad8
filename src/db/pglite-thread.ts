/**
 * The embedded database's own thread: it opens PGlite and runs the statements the driver
 * (`pglite-driver.ts`) sends, one at a time, in order. PGlite runs a statement synchronously on the
 * thread that calls it; here that is not the server's event loop, so streams, sockets and timers
 * move while statements run, and the database's work goes to the machine's other core.
 */
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { PGlite } from '@electric-sql/pglite';
import { PreparedStatements } from './pglite-prepared.js';
import { toThreadError, type ThreadReady, type ThreadReply, type ThreadRequest, type ThreadStart } from './pglite-protocol.js';

const INT8_OID = 20;

interface Rows {
  rows: unknown[];
  rowCount: number;
}

if (!parentPort) throw new Error('pglite-thread runs as a worker thread');
const port: MessagePort = parentPort;
const start = workerData as ThreadStart;

async function open(): Promise<PGlite> {
  return PGlite.create(start.dir ?? 'memory://', {
    parsers: { [INT8_OID]: (value: string) => Number(value) },
    startParams: [...PGlite.defaultStartParams, ...start.settings],
    ...(start.loadDataDir ? { loadDataDir: start.loadDataDir } : {}),
  });
}

async function serve(pglite: PGlite): Promise<void> {
  const prepared = new PreparedStatements(pglite);

  const query = async (sql: string, params: unknown[]): Promise<Rows> => {
    // exec allows several statements (migrations); it returns one result per statement.
    if (params.length === 0 && !/\$\d/.test(sql)) {
      const results = await pglite.exec(sql);
      const last = results[results.length - 1];
      return { rows: last?.rows ?? [], rowCount: last?.affectedRows ?? last?.rows.length ?? 0 };
    }
    const result = await prepared.query(sql, params);
    return { rows: result.rows, rowCount: result.affectedRows ?? result.rows.length };
  };

  const answer = async (request: ThreadRequest): Promise<unknown> => {
    switch (request.op) {
      case 'query':
        return query(request.sql, request.params);
      case 'dump':
        return pglite.dumpDataDir('none');
      case 'close':
        await pglite.close();
        return undefined;
    }
  };

  /** Sends `reply`; a value that cannot be copied to the server's thread fails its request instead. */
  const send = (reply: ThreadReply): void => {
    try {
      port.postMessage(reply);
    } catch (err) {
      port.postMessage({ id: reply.id, ok: false, error: toThreadError(err) } satisfies ThreadReply);
    }
  };

  // One request at a time: a transaction's statements come in order, with nothing between them.
  // Each request's work never rejects, so the chain goes on after a failed one.
  let tail: Promise<void> = Promise.resolve();
  port.on('message', (request: ThreadRequest) => {
    tail = tail.then(async () => {
      try {
        send({ id: request.id, ok: true, value: await answer(request) });
      } catch (err) {
        send({ id: request.id, ok: false, error: toThreadError(err) });
      }
      if (request.op === 'close') port.close();
    });
  });
}

try {
  const pglite = await open();
  await serve(pglite);
  port.postMessage({ ready: true } satisfies ThreadReady);
} catch (err) {
  port.postMessage({ ready: false, error: toThreadError(err) } satisfies ThreadReady);
}
