/**
 * Several real Pulp processes on one fresh PostgreSQL database, a shared DATA_DIR, and the fake
 * model; plus the chat socket client of test/support/chat-client.ts.
 */
import { rmSync } from 'node:fs';
import { createEmptyPostgresDatabase } from '../support/database.js';
import type { FakeOpenAI } from '../support/fake-openai.js';
import { dataDirWithoutBuiltins, fakeModelEnv, spawnPulpRaw, type SpawnedPulp } from '../support/pulp-process.js';

export interface ClusterEnv {
  env: Record<string, string>;
  url: string;
  cleanup(): Promise<void>;
}

export async function clusterEnv(fake: FakeOpenAI): Promise<ClusterEnv> {
  const DATA_DIR = dataDirWithoutBuiltins('pulp-cluster-');
  const pgdb = await createEmptyPostgresDatabase();
  return {
    url: pgdb.url,
    env: {
      DATA_DIR,
      DATABASE_URL: pgdb.url,
      ...fakeModelEnv(fake.baseUrl),
      CODE_INTERPRETER: 'off',
    },
    async cleanup() {
      await pgdb.drop();
      rmSync(DATA_DIR, { recursive: true, force: true });
    },
  };
}

export interface Server extends SpawnedPulp {
  baseUrl: string;
  stop(): Promise<void>;
}

export async function startServer(env: Record<string, string>): Promise<Server> {
  const p = spawnPulpRaw(env);
  const stop = async () => {
    if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
    await p.exited;
  };
  try {
    const line = await p.waitForLine((l) => l.includes('Pulp listening on'));
    const baseUrl = /listening on (http:\/\/[^"\s]+)/.exec(line)?.[1];
    if (!baseUrl) throw new Error(`no address in: ${line}`);
    return { ...p, baseUrl, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

export { createSession, deltasOf, ended, openChat, type ChatClient, type Event } from '../support/chat-client.js';
