/**
 * Several Pulp servers on one PostgreSQL (real processes, real PostgreSQL, the fake model over
 * HTTP): events of a turn reach every server's connections in order, an interrupt or a new message
 * on another server stops the turn where it runs, `resume` replays what a reconnecting client
 * missed, a killed server's turn is ended by the other, and migrations run once.
 */
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readMigrations } from '../../src/db/migrate.js';
import { apiClient } from '../support/api.js';
import { TEST_DATABASE_URL } from '../support/database.js';
import { startFakeOpenAI, type FakeOpenAI, type RecordedRequest } from '../support/fake-openai.js';
import { clusterEnv, createSession, deltasOf, ended, openChat, startServer, type ChatClient, type ClusterEnv, type Server } from './support.js';

if (!TEST_DATABASE_URL) console.log('test/cluster: skipped — several servers need PostgreSQL (set TEST_DATABASE_URL)');

const SHORT = Array.from({ length: 150 }, (_, i) => `s${i} `);
const LONG = Array.from({ length: 400 }, (_, i) => `l${i} `);

/** The text of the last user message the model was sent. */
function lastUser(req: RecordedRequest): string {
  const messages = (req.body.messages ?? []) as Array<{ role: string; content: unknown }>;
  const user = messages.filter((m) => m.role === 'user').at(-1);
  return typeof user?.content === 'string' ? user.content : JSON.stringify(user?.content ?? '');
}

const turnOf = (events: ChatClient['events'], n = 0) => events.filter((e) => e.type === 'assistant_start')[n]?.turn_id;

describe.skipIf(!TEST_DATABASE_URL)('several servers on one PostgreSQL', () => {
  let fake: FakeOpenAI;
  let cluster: ClusterEnv;
  let s1: Server;
  let s2: Server;
  const clients: ChatClient[] = [];
  const open = async (server: Server, sessionId: string) => {
    const c = await openChat(server.baseUrl, sessionId);
    clients.push(c);
    return c;
  };

  beforeAll(async () => {
    fake = await startFakeOpenAI();
    fake.setHandler((req) => {
      const said = lastUser(req);
      if (said.startsWith('long')) return { steps: [{ type: 'pace', ms: 50 }, { type: 'text', deltas: LONG }] };
      if (said.startsWith('short')) return { steps: [{ type: 'pace', ms: 10 }, { type: 'text', deltas: SHORT }] };
      return { steps: [{ type: 'text', deltas: ['ok ', `(${said})`] }] };
    });
    cluster = await clusterEnv(fake);
    // Both start at once against the empty database.
    [s1, s2] = await Promise.all([startServer(cluster.env), startServer(cluster.env)]);
  }, 120_000);

  afterAll(async () => {
    if (process.env.CLUSTER_DEBUG) for (const s of [s1, s2]) console.log(s?.lines.filter((l) => !l.includes('"level":30')).join('\n'));
    for (const c of clients) c.close();
    await Promise.all([s1?.stop(), s2?.stop()]);
    await cluster?.cleanup();
    await fake?.close();
  });

  it('two servers starting at once against an empty database run the migrations once', async () => {
    const applied = [...s1.lines, ...s2.lines].filter((l) => l.includes('database migration'));
    expect(applied).toHaveLength(1);
    const client = new pg.Client({ connectionString: cluster.url });
    await client.connect();
    try {
      const { rows } = await client.query<{ name: string; n: string }>('SELECT name, count(*) AS n FROM schema_migrations GROUP BY name ORDER BY name');
      expect(rows.map((r) => r.name)).toEqual(readMigrations().map((m) => m.name));
      expect(rows.every((r) => r.n === '1')).toBe(true);
    } finally {
      await client.end();
    }
    for (const s of [s1, s2]) expect((await fetch(`${s.baseUrl}/api/v1/health/ready`)).status).toBe(200);
    const ids = [];
    for (const s of [s1, s2]) {
      const health = (await apiClient(s.baseUrl)('GET', '/health')).body as { cluster: { enabled: boolean; server_id: string; listening: boolean } };
      expect(health.cluster).toMatchObject({ enabled: true, listening: true });
      ids.push(health.cluster.server_id);
    }
    expect(new Set(ids).size).toBe(2);
  });

  it('clients on two servers see every event of a turn, in the same order', async () => {
    const sessionId = await createSession(s1.baseUrl);
    const a = await open(s1, sessionId);
    const b = await open(s2, sessionId);
    a.send({ type: 'message', messages: [{ content: 'short answer please' }] });
    await Promise.all([a.until(ended()), b.until(ended())]);
    const shape = (c: ChatClient) => c.events.filter((e) => e.turn_id).map((e) => `${e.seq}:${e.type}:${e.content ?? e.finish_reason ?? ''}`);
    expect(shape(b)).toEqual(shape(a));
    expect(shape(a).at(-1)).toBe(`${shape(a).length}:assistant_end:stop`);
    expect(b.text()).toBe(SHORT.join(''));
  });

  it("an interrupt sent to the other server stops the turn within 500 ms, and both see it end", async () => {
    const sessionId = await createSession(s1.baseUrl);
    const a = await open(s1, sessionId);
    const b = await open(s2, sessionId);
    a.send({ type: 'message', messages: [{ content: 'long answer please' }] });
    await b.until((ev) => deltasOf(ev) >= 5);
    const aborted = fake.nextAbort();
    const sentAt = performance.now();
    b.send({ type: 'interrupt' });
    const request = await aborted;
    expect(request.abortedAt! - sentAt).toBeLessThan(500);
    await Promise.all([a.until(ended()), b.until(ended())]);
    for (const c of [a, b]) {
      expect(c.events.find((e) => e.type === 'assistant_end')?.finish_reason).toBe('interrupted');
      expect(c.events.some((e) => e.type === 'stream_interrupted')).toBe(true);
    }
  });

  it("a message on the other server interrupts the running turn, waits for its end, then runs once", async () => {
    const sessionId = await createSession(s1.baseUrl);
    const a = await open(s1, sessionId);
    const b = await open(s2, sessionId);
    a.send({ type: 'message', messages: [{ content: 'long story' }] });
    await a.until((ev) => deltasOf(ev) >= 5);
    const before = fake.requests.length;
    const aborted = fake.nextAbort();
    b.send({ type: 'message', messages: [{ content: 'second question' }] });
    await aborted;
    await Promise.all([a.until((ev) => ev.filter((e) => e.type === 'assistant_end').length === 2), b.until((ev) => ev.filter((e) => e.type === 'assistant_end').length === 2)]);

    const first = turnOf(a.events, 0);
    const second = turnOf(a.events, 1);
    for (const c of [a, b]) {
      const kinds = c.events.filter((e) => e.type === 'assistant_start' || e.type === 'assistant_end').map((e) => `${e.type}:${e.turn_id}`);
      // The first turn ends before the second starts, on both servers' connections.
      expect(kinds.slice(-3)).toEqual([`assistant_end:${first}`, `assistant_start:${second}`, `assistant_end:${second}`]);
      expect(c.text(second)).toBe('ok (second question)');
    }
    const secondCalls = fake.requests.slice(before).filter((r) => lastUser(r) === 'second question');
    expect(secondCalls).toHaveLength(1);

    const messages = (await apiClient(s2.baseUrl)('GET', `/sessions/${sessionId}`)).body.messages as Array<{ role: string; content: string; partial: boolean }>;
    expect(messages.map((m) => m.role)).toEqual(['user', 'assistant', 'user', 'assistant']);
    expect(messages[1]!.partial).toBe(true);
    expect(messages[3]!.content).toBe('ok (second question)');
  });

  for (const target of ['the same server', 'the other server'] as const) {
    it(`a client that reconnects to ${target} with resume gets exactly the text it missed`, async () => {
      const sessionId = await createSession(s1.baseUrl);
      const a = await open(s1, sessionId);
      const watcher = await open(s2, sessionId);
      a.send({ type: 'message', messages: [{ content: 'short but streamed' }] });
      await a.until((ev) => deltasOf(ev) >= 10);
      a.close();
      const seen = a.events.filter((e) => e.turn_id);
      const turnId = seen[0]!.turn_id!;
      const afterSeq = seen.at(-1)!.seq!;
      // The stream goes on while the client is away.
      await watcher.until((ev) => deltasOf(ev) >= deltasOf(seen) + 20);

      const again = await open(target === 'the same server' ? s1 : s2, sessionId);
      again.send({ type: 'resume', turn_id: turnId, after_seq: afterSeq });
      await again.until(ended(turnId));

      const replayed = again.events.filter((e) => e.turn_id === turnId);
      expect(replayed[0]!.seq).toBe(afterSeq + 1);
      expect(replayed.map((e) => e.seq)).toEqual(replayed.map((_, i) => afterSeq + 1 + i));
      expect(a.text(turnId) + again.text(turnId)).toBe(SHORT.join(''));
    });
  }

  it('resume of a turn the server does not know answers with a recoverable error', async () => {
    const sessionId = await createSession(s2.baseUrl);
    const c = await open(s2, sessionId);
    c.send({ type: 'resume', turn_id: 'turn_nothing', after_seq: 3 });
    await c.until((ev) => ev.some((e) => e.type === 'error'));
    expect(c.events[0]).toMatchObject({ type: 'error', code: 'RES_3001', recoverable: true });
  });

  it('when the server running a turn is killed, the other ends it and takes new turns within 10 s', { timeout: 60_000 }, async () => {
    const sessionId = await createSession(s1.baseUrl);
    const a = await open(s1, sessionId);
    const b = await open(s2, sessionId);
    a.send({ type: 'message', messages: [{ content: 'long tale' }] });
    // Past the first 2 s checkpoint of the streamed text.
    await b.until((ev) => {
      const d = ev.filter((e) => e.type === 'assistant_delta');
      return d.length > 0 && (d.at(-1)!.receivedAt as number) - (d[0]!.receivedAt as number) >= 2_500;
    });
    const killedTurn = turnOf(b.events, 0)!;
    const killedAt = performance.now();
    s1.child.kill('SIGKILL');
    await s1.exited;

    await b.until(ended(killedTurn));
    const endedAt = performance.now();
    expect(b.events.find((e) => e.type === 'assistant_end' && e.turn_id === killedTurn)?.finish_reason).toBe('interrupted');
    b.send({ type: 'message', messages: [{ content: 'are you there' }] });
    await b.until((ev) => ev.filter((e) => e.type === 'assistant_end').length === 2);
    const acceptedAt = performance.now();
    expect(endedAt - killedAt).toBeLessThan(10_000);
    expect(acceptedAt - killedAt).toBeLessThan(10_000);
    const next = turnOf(b.events, 1)!;
    expect(b.text(next)).toBe('ok (are you there)');

    const messages = (await apiClient(s2.baseUrl)('GET', `/sessions/${sessionId}`)).body.messages as Array<{
      role: string;
      content: string;
      partial: boolean;
      status: string | null;
    }>;
    expect(messages.map((m) => m.role)).toEqual(['user', 'assistant', 'user', 'assistant']);
    const partial = messages[1]!;
    expect(partial).toMatchObject({ partial: true, status: 'interrupted' });
    expect(partial.content.length).toBeGreaterThan(0);
    expect(LONG.join('').startsWith(partial.content)).toBe(true);
    expect(b.text(killedTurn).startsWith(partial.content)).toBe(true);
    // The next model call saw the partial answer, marked as cut off.
    const lastCall = fake.requests.filter((r) => lastUser(r) === 'are you there').at(-1)!;
    expect(JSON.stringify(lastCall.body.messages)).toContain(partial.content.slice(0, 40));
  });
});
