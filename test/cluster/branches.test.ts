/**
 * Branches on two Pulp servers sharing one PostgreSQL (real processes, the fake model over HTTP):
 * a regenerate sent to one server is interrupted from the other and stays a sibling branch with
 * its partial answer; a client that drops off during a regenerate resumes it on the other server;
 * an edit sent to either server sends the model nothing of the branch it left.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiClient } from '../support/api.js';
import { TEST_DATABASE_URL } from '../support/database.js';
import { startFakeOpenAI, type FakeOpenAI, type RecordedRequest } from '../support/fake-openai.js';
import { clusterEnv, createSession, deltasOf, ended, openChat, startServer, type ChatClient, type ClusterEnv, type Server } from './support.js';

const LONG = Array.from({ length: 400 }, (_, i) => `l${i} `);
const STREAMED = Array.from({ length: 150 }, (_, i) => `s${i} `);

interface PathMessage {
  id: string;
  parent_id: string | null;
  sibling_ids: string[];
  role: string;
  content: string | null;
  partial: boolean;
  status: string | null;
}

const inputOf = (req: RecordedRequest | undefined) => JSON.stringify(req?.body.messages ?? null);

describe.skipIf(!TEST_DATABASE_URL)('branches on several servers', () => {
  let fake: FakeOpenAI;
  let cluster: ClusterEnv;
  let s1: Server;
  let s2: Server;
  const clients: ChatClient[] = [];
  /** How the next chat answer streams. */
  let next: 'plain' | 'long' | 'streamed' = 'plain';
  const open = async (server: Server, sessionId: string) => {
    const c = await openChat(server.baseUrl, sessionId);
    clients.push(c);
    return c;
  };
  const path = async (server: Server, sessionId: string): Promise<PathMessage[]> =>
    (await apiClient(server.baseUrl)('GET', `/sessions/${sessionId}/messages`)).body.messages as PathMessage[];
  const endsOf = (c: ChatClient) => c.events.filter((e) => e.type === 'assistant_end').length;

  beforeAll(async () => {
    fake = await startFakeOpenAI();
    fake.setHandler(() => {
      const kind = next;
      next = 'plain';
      if (kind === 'long') return { steps: [{ type: 'pace', ms: 50 }, { type: 'text', deltas: LONG }] };
      if (kind === 'streamed') return { steps: [{ type: 'pace', ms: 10 }, { type: 'text', deltas: STREAMED }] };
      return { steps: [{ type: 'text', deltas: ['plain answer'] }] };
    });
    cluster = await clusterEnv(fake);
    [s1, s2] = await Promise.all([startServer(cluster.env), startServer(cluster.env)]);
  }, 120_000);

  afterAll(async () => {
    for (const c of clients) c.close();
    await Promise.all([s1?.stop(), s2?.stop()]);
    await cluster?.cleanup();
    await fake?.close();
  });

  it('a regenerate on one server, interrupted from the other, stays a sibling answer with its partial text', async () => {
    const sessionId = await createSession(s1.baseUrl);
    const a = await open(s1, sessionId);
    const b = await open(s2, sessionId);
    a.send({ type: 'message', messages: [{ content: 'ALPHA question' }] });
    await a.until(ended());
    const [question, answer] = await path(s2, sessionId);

    next = 'long';
    b.send({ type: 'regenerate', message_id: answer!.id });
    await a.until((ev) => deltasOf(ev) >= 5);
    a.send({ type: 'interrupt' });
    await Promise.all([a.until(() => endsOf(a) === 2), b.until(() => endsOf(b) === 2)]);
    expect(a.events.filter((e) => e.type === 'assistant_end').at(-1)?.finish_reason).toBe('interrupted');

    const after = await path(s1, sessionId);
    expect(after.map((m) => m.id)).toEqual([question!.id, expect.any(String)]);
    expect(after[1]).toMatchObject({ role: 'assistant', partial: true, status: 'interrupted', parent_id: question!.id });
    expect(after[1]!.sibling_ids).toEqual([answer!.id, after[1]!.id]);
    // The regenerate's request held the question once, and nothing of the answer it replaces.
    const request = inputOf(fake.requests.at(-1));
    expect(request.split('ALPHA question')).toHaveLength(2);
    expect(request).not.toContain('plain answer');
  });

  it('a client that drops off during a regenerate resumes it on the other server', async () => {
    const sessionId = await createSession(s1.baseUrl);
    const a = await open(s1, sessionId);
    a.send({ type: 'message', messages: [{ content: 'ALPHA question' }] });
    await a.until(ended());
    const [question] = await path(s1, sessionId);

    next = 'streamed';
    const from = a.events.length;
    a.send({ type: 'regenerate', message_id: question!.id });
    await a.until((ev) => deltasOf(ev.slice(from)) >= 10);
    a.close();
    const seen = a.events.slice(from).filter((e) => e.turn_id);
    const turnId = seen[0]!.turn_id!;
    const again = await open(s2, sessionId);
    again.send({ type: 'resume', turn_id: turnId, after_seq: seen.at(-1)!.seq! });
    await again.until(ended(turnId));
    expect(a.text(turnId) + again.text(turnId)).toBe(STREAMED.join(''));

    const after = await path(s2, sessionId);
    expect(after[1]).toMatchObject({ content: STREAMED.join(''), partial: false, parent_id: question!.id });
    expect(after[1]!.sibling_ids).toHaveLength(2);
  });

  it('an edit on either server sends the model nothing of the branch it left, and both servers show the same path', async () => {
    const sessionId = await createSession(s1.baseUrl);
    const a = await open(s1, sessionId);
    const b = await open(s2, sessionId);
    a.send({ type: 'message', messages: [{ content: 'SHARED start' }] });
    await a.until(() => endsOf(a) === 1);
    a.send({ type: 'message', messages: [{ content: 'ALPHA question' }] });
    await a.until(() => endsOf(a) === 2);
    const alpha = await path(s2, sessionId);

    b.send({ type: 'message', messages: [{ content: 'BRAVO question' }], parent_id: alpha[2]!.parent_id });
    await Promise.all([a.until(() => endsOf(a) === 3), b.until(() => endsOf(b) === 3)]);
    const request = inputOf(fake.requests.at(-1));
    expect(request).toContain('SHARED start');
    expect(request).not.toContain('ALPHA');

    const [one, two] = await Promise.all([path(s1, sessionId), path(s2, sessionId)]);
    expect(one).toEqual(two);
    expect(one.map((m) => m.content)).toEqual(['SHARED start', 'plain answer', 'BRAVO question', 'plain answer']);
    expect(one[2]!.sibling_ids).toEqual([alpha[2]!.id, one[2]!.id]);
  });
});
