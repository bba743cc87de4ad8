/**
 * The real server for browser tests: `src/main.ts` as a child process (as `npm start` runs it)
 * with a fresh DATA_DIR, the offline model, and — when TEST_DATABASE_URL is set — a fresh
 * PostgreSQL database instead of the embedded one.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { createDatabase } from '../../../src/db/create-database.js';
import type { Database } from '../../../src/db/database.js';
import { createEmptyPostgresDatabase, TEST_DATABASE_URL } from '../../support/database.js';
import { startPulpProcess, type PulpProcess } from '../../support/pulp-process.js';

export interface BrowserTestServer {
  baseUrl: string;
  /** Stops the server (SIGTERM, as an operator would) and starts it again on the same port and data. */
  restart(): Promise<void>;
  /** Ends the server with `signal` (SIGKILL: a crash, nothing saved on the way out) and waits until it has exited. */
  stop(signal?: NodeJS.Signals): Promise<void>;
  /** Sends `signal` to the running server without waiting (SIGSTOP: it freezes, its sockets stay open). */
  signal(signal: NodeJS.Signals): void;
  /** Starts the server again on the same port and data, after `stop`. */
  start(): Promise<void>;
  /** Runs `fn` on the server's database while the server is stopped (PGlite belongs to one process). */
  withDatabaseStopped<T>(fn: (db: Database) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

async function stop(p: PulpProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill(signal);
  await p.exited;
}

export async function startServerForBrowser(env: Record<string, string> = {}): Promise<BrowserTestServer> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'pulp-e2e-'));
  const database = TEST_DATABASE_URL ? await createEmptyPostgresDatabase() : undefined;
  const cleanup = async () => {
    await database?.drop().catch(() => undefined);
    rmSync(dataDir, { recursive: true, force: true });
  };
  // Tool calls run without asking unless a test is about approval (TOOL_APPROVAL: 'ask').
  const fullEnv = { DATA_DIR: dataDir, LLM_PROVIDER: 'offline', TOOL_APPROVAL: 'auto', ...(database ? { DATABASE_URL: database.url } : {}), ...env };
  let current: PulpProcess;
  try {
    current = await startPulpProcess(fullEnv);
    const page = await fetch(`${current.baseUrl}/`);
    if (!(page.headers.get('content-type') ?? '').includes('text/html')) {
      await stop(current);
      throw new Error(`the server does not serve the web client at / (answered ${page.status}); is registerWebClient wired into src/app.ts?`);
    }
  } catch (err) {
    await cleanup();
    throw err;
  }
  const baseUrl = current.baseUrl;
  const start = async () => {
    current = await startPulpProcess({ ...fullEnv, PORT: new URL(baseUrl).port });
  };
  return {
    baseUrl,
    async restart() {
      await stop(current);
      await start();
    },
    stop: (signal) => stop(current, signal),
    signal: (signal) => void current.child.kill(signal),
    start,
    async withDatabaseStopped(fn) {
      await stop(current);
      const db = await createDatabase({ databaseUrl: database?.url, dataDir: fullEnv.DATA_DIR, dbPoolMax: 2, dbStatementTimeoutMs: 60_000 }, pino({ level: 'silent' }));
      try {
        return await fn(db);
      } finally {
        await db.close();
        await start();
      }
    },
    async close() {
      try {
        await stop(current);
      } finally {
        await cleanup();
      }
    },
  };
}
