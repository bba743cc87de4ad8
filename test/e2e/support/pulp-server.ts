/**
 * The real server for browser tests: `src/main.ts` as a child process (as `npm start` runs it)
 * with a fresh DATA_DIR, the offline model, and — when TEST_DATABASE_URL is set — a fresh
 * PostgreSQL database instead of the embedded one.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createEmptyPostgresDatabase, TEST_DATABASE_URL } from '../../support/database.js';
import { startPulpProcess, type PulpProcess } from '../../support/pulp-process.js';

export interface BrowserTestServer {
  baseUrl: string;
  /** Stops the server (SIGTERM, as an operator would) and starts it again on the same port and data. */
  restart(): Promise<void>;
  close(): Promise<void>;
}

async function stop(p: PulpProcess): Promise<void> {
  if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGTERM');
  await p.exited;
}

export async function startServerForBrowser(env: Record<string, string> = {}): Promise<BrowserTestServer> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'pulp-e2e-'));
  const database = TEST_DATABASE_URL ? await createEmptyPostgresDatabase() : undefined;
  const cleanup = async () => {
    await database?.drop().catch(() => undefined);
    rmSync(dataDir, { recursive: true, force: true });
  };
  const fullEnv = { DATA_DIR: dataDir, LLM_PROVIDER: 'offline', ...(database ? { DATABASE_URL: database.url } : {}), ...env };
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
  return {
    baseUrl,
    async restart() {
      await stop(current);
      current = await startPulpProcess({ ...fullEnv, PORT: new URL(baseUrl).port });
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
