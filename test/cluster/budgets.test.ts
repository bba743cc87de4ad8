/**
 * A budget holds across servers: two Pulp servers on one PostgreSQL database, a daily budget of
 * 100 tokens. What a user spends through one server is refused on the other, before any model
 * request, because both read the same ledger.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMigratedPostgresDatabase, sharedPostgresDatabase, TEST_DATABASE_URL, type TestDatabase } from '../support/database.js';
import { startFakeOpenAI, type FakeOpenAI } from '../support/fake-openai.js';
import { fakeModelEnv } from '../support/pulp-process.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { createSession, ended, openChat, type ChatClient } from './support.js';

describe.skipIf(!TEST_DATABASE_URL)('budgets on two servers', () => {
  let fake: FakeOpenAI;
  let url: string;
  let drop: () => Promise<void>;
  let a: TestServer;
  let b: TestServer;
  const clients: ChatClient[] = [];

  const database = (): TestDatabase => sharedPostgresDatabase(url);

  beforeAll(async () => {
    fake = await startFakeOpenAI();
    fake.setHandler(() => ({ steps: [{ type: 'text', deltas: ['Spent.'] }], usage: { input_tokens: 90, output_tokens: 20 } }));
    ({ url, drop } = await createMigratedPostgresDatabase());
    const env = { DATABASE_URL: url, ...fakeModelEnv(fake.baseUrl), QUOTA_TOKENS_PER_DAY: '100' };
    a = await startTestServer(env, { database: database() });
    b = await startTestServer({ ...env, DATA_DIR: a.dataDir }, { database: database() });
  }, 60_000);

  afterAll(async () => {
    for (const c of clients) c.close();
    await a?.close();
    await b?.close();
    await drop?.();
    await fake?.close();
  });

  async function turn(server: TestServer) {
    const chat = await openChat(server.baseUrl, await createSession(server.baseUrl));
    clients.push(chat);
    chat.send({ type: 'message', messages: [{ content: 'Hello' }] });
    await chat.until(ended());
    return chat.events;
  }

  it('what one server let a user spend is refused on the other', async () => {
    const first = await turn(a);
    expect(first.find((e) => e.type === 'assistant_end')).toMatchObject({ finish_reason: 'stop' });
    const requests = fake.requests.length;
    const second = await turn(b);
    expect(second.find((e) => e.type === 'error')).toMatchObject({ code: 'QUOTA_3101' });
    expect(String(second.find((e) => e.type === 'error')?.message)).toContain('(110 of 100 tokens used.)');
    expect(fake.requests.length).toBe(requests);
  });
});
