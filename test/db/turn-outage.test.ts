/**
 * The database going away during a turn: PostgreSQL behind a TCP proxy that the test cuts while
 * the model is still answering, on a single server and with the cluster layer (whose turn lock
 * holds its own connection). Needs a real PostgreSQL server (TEST_DATABASE_URL).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPostgresDatabase } from '../../src/db/postgres-driver.js';
import { createSession, ended, openChat } from '../support/chat-client.js';
import { counted, createEmptyPostgresDatabase, TEST_DATABASE_URL } from '../support/database.js';
import { startFakeOpenAI, type FakeOpenAI } from '../support/fake-openai.js';
import { silentLogger, startTestServer, type TestServer } from '../support/server.js';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy.js';

if (!TEST_DATABASE_URL) console.warn('turn-outage.test.ts skipped: set TEST_DATABASE_URL to run it against real PostgreSQL');

describe.skipIf(!TEST_DATABASE_URL).each([
  { mode: 'one server', cluster: false },
  { mode: 'the cluster layer', cluster: true },
])('database connections killed during a turn, with $mode', ({ cluster }) => {
  let proxy: TcpProxy;
  let server: TestServer;
  let fake: FakeOpenAI;
  let dropDatabase: () => Promise<void>;

  beforeAll(async () => {
    fake = await startFakeOpenAI();
    const empty = await createEmptyPostgresDatabase();
    dropDatabase = empty.drop;
    const target = new URL(empty.url);
    proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 5432) });
    const viaProxy = new URL(empty.url);
    viaProxy.port = String(proxy.port);
    viaProxy.hostname = '127.0.0.1';
    const db = createPostgresDatabase({ url: viaProxy.toString(), poolMax: 4, statementTimeoutMs: 5_000, logger: silentLogger() });
    server = await startTestServer(
      { LLM_PROVIDER: 'openai', OPENAI_BASE_URL: fake.baseUrl, OPENAI_API_KEY: 'test', ...(cluster ? { DATABASE_URL: viaProxy.toString() } : {}) },
      { database: { ...counted(db), url: viaProxy.toString(), drop: async () => {} } },
    );
  });
  afterAll(async () => {
    await server?.close();
    await proxy?.close();
    await fake?.close();
    await dropDatabase?.();
  });

  it('end the turn with an error event the client sees and assistant_end{error}, not a silent interrupted', async () => {
    const sessionId = await createSession(server.baseUrl);
    const chat = await openChat(server.baseUrl, sessionId);
    let cutDone = () => undefined as void;
    const afterCut = new Promise<void>((resolve) => (cutDone = resolve));
    fake.enqueue({ steps: [{ type: 'text', deltas: ['Half'] }, { type: 'wait', until: afterCut }, { type: 'text', deltas: [' an answer.'] }] });
    chat.send({ type: 'message', messages: [{ content: 'hello' }] });
    await chat.until((events) => events.some((e) => e.type === 'assistant_delta'));

    proxy.cut();
    cutDone();
    await chat.until(ended());
    const errors = chat.events.filter((e) => e.type === 'error');
    // With the cluster layer the turn lock's own connection goes too: whichever the turn notices
    // first ends it, the lost database (DB_8002) or the lost lock (DB_8003); never `interrupted`.
    expect(errors).toEqual([expect.objectContaining({ code: cluster ? expect.stringMatching(/^DB_800[23]$/) : 'DB_8002', recoverable: true })]);
    expect(chat.events.some((e) => e.type === 'stream_interrupted')).toBe(false);
    expect(chat.events.at(-1)).toMatchObject({ type: 'assistant_end', finish_reason: 'error' });
    chat.close();
    proxy.restore();
  });
});
