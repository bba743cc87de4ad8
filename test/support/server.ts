/** Starts a real Pulp server on 127.0.0.1 with a fresh database and DATA_DIR, for one test file. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { createPulp, type PulpServer } from '../../src/app.js';
import { loadConfig } from '../../src/config/config.js';
import { createTestDatabase, type TestDatabase } from './database.js';

export interface TestServer {
  pulp: PulpServer;
  baseUrl: string;
  wsUrl: string;
  dataDir: string;
  database: TestDatabase;
  close(): Promise<void>;
}

export const silentLogger = () => pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });

export interface TestServerOptions {
  database?: TestDatabase;
  /** Start the built-in MCP servers (off by default: most tests do not need six child processes). */
  mcpBuiltins?: boolean;
}

export async function startTestServer(env: Record<string, string> = {}, options: TestServerOptions = {}): Promise<TestServer> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'pulp-test-'));
  // Tool calls run without asking unless a test is about approval (TOOL_APPROVAL: 'ask').
  const config = loadConfig({ DATA_DIR: dataDir, PORT: '0', LLM_PROVIDER: 'offline', CODE_INTERPRETER: 'off', TOOL_APPROVAL: 'auto', ...env });
  const database = options.database ?? (await createTestDatabase());
  const pulp = await createPulp({ config, db: database.db, logger: silentLogger(), mcpBuiltins: options.mcpBuiltins ?? false });
  const address = await pulp.app.listen({ host: '127.0.0.1', port: 0 });
  return {
    pulp,
    baseUrl: address,
    wsUrl: address.replace(/^http/, 'ws'),
    dataDir,
    database,
    async close() {
      await pulp.close();
      if (!options.database) await database.drop().catch(() => undefined);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
