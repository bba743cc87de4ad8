/**
 * A paused turn survives everything: every client gone and the server SIGKILLed, it is still
 * there after a restart and an approval from a new connection runs the tool once and ends the
 * turn; on PostgreSQL, a second server of the cluster takes the approval of a dead one's turn.
 * Real server processes (`npm start`), the fake model over real HTTP.
 */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { apiClient } from '../support/api.js';
import { createSession, openChat, type ChatClient, type Event } from '../support/chat-client.js';
import { createEmptyPostgresDatabase, TEST_DATABASE_URL } from '../support/database.js';
import { startFakeOpenAI, type FakeOpenAI } from '../support/fake-openai.js';
import { dataDirWithoutBuiltins, fakeModelEnv, spawnPulpRaw } from '../support/pulp-process.js';

let fake: FakeOpenAI;
const cleanups: Array<() => Promise<void> | void> = [];

beforeAll(async () => {
  fake = await startFakeOpenAI();
  // Chat Completions: the first request of a turn calls generate_document; once its result is in, "saved".
  fake.setHandler((request) => {
    const messages = (request.body.messages ?? []) as Array<{ role: string; content?: string }>;
    const lastUser = messages.map((m) => m.role).lastIndexOf('user');
    const answered = messages.slice(lastUser + 1).some((m) => m.role === 'tool');
    const text = messages[lastUser]?.content ?? '';
    const name = /file (\S+)/.exec(text)?.[1] ?? 'x.md';
    if (answered) return { steps: [{ type: 'text', deltas: ['saved'] }] };
    return { steps: [{ type: 'tool_call', name: 'generate_document', arguments: { filename: name, content: `hello ${name}` }, callId: `call_${name.replace('.', '_')}` }] };
  });
});
afterAll(async () => {
  await fake.close();
});
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

async function freshEnv(database: 'default' | 'postgres'): Promise<Record<string, string>> {
  const DATA_DIR = dataDirWithoutBuiltins('pulp-approve-');
  cleanups.push(() => rmSync(DATA_DIR, { recursive: true, force: true }));
  const env: Record<string, string> = { DATA_DIR, ...fakeModelEnv(fake.baseUrl), CODE_INTERPRETER: 'off', TOOL_APPROVAL: 'ask' };
  if (database === 'postgres' || TEST_DATABASE_URL) {
    const pgdb = await createEmptyPostgresDatabase();
    cleanups.push(() => pgdb.drop());
    env.DATABASE_URL = pgdb.url;
  }
  return env;
}

async function start(env: Record<string, string>) {
  const p = spawnPulpRaw(env);
  const kill = async () => {
    if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
    await p.exited;
  };
  cleanups.push(kill);
  const line = await p.waitForLine((l) => l.includes('Pulp listening on'));
  const baseUrl = /listening on (http:\/\/[^"\s]+)/.exec(line)?.[1];
  if (!baseUrl) throw new Error(`no address in: ${line}`);
  return { ...p, baseUrl, kill };
}

async function chat(baseUrl: string, sessionId: string): Promise<ChatClient> {
  const client = await openChat(baseUrl, sessionId);
  cleanups.push(() => client.close());
  return client;
}

/** Sends the message and waits for the turn to pause; returns its `assistant_end{paused}`. */
async function pauseTurn(client: ChatClient, file: string): Promise<Event> {
  client.send({ type: 'message', messages: [{ content: `write the file ${file}` }] });
  await client.until((events) => events.some((e) => e.type === 'assistant_end'));
  const end = client.events.find((e) => e.type === 'assistant_end')!;
  expect(end.finish_reason).toBe('paused');
  expect(client.events.some((e) => e.type === 'approval_required')).toBe(true);
  return end;
}

/** Approves from a new connection, waits for the same turn's final end; returns the events seen. */
async function approveAndFinish(client: ChatClient, callId: string, turnId: string): Promise<Event[]> {
  client.send({ type: 'approve', tool_call_id: callId });
  await client.until((events) => events.some((e) => e.type === 'assistant_end' && e.turn_id === turnId));
  return client.events.filter((e) => e.turn_id === turnId);
}

async function toolRows(baseUrl: string, sessionId: string, callId: string) {
  const { body } = await apiClient(baseUrl)('GET', `/sessions/${sessionId}/messages`);
  return (body.messages as Array<{ tool_call_id: string | null; status: string; tool_result: string | null }>).filter((m) => m.tool_call_id === callId);
}

describe('a paused turn survives', () => {
  // Two or three server starts (each migrates or recovers its database) on a shared machine.
  it('every client gone and a SIGKILL: after a restart an approval from a new connection runs the tool once and ends the turn', { timeout: 90_000 }, async () => {
    const env = await freshEnv('default');
    const first = await start(env);
    const sessionId = await createSession(first.baseUrl, 'Durable');
    const client = await chat(first.baseUrl, sessionId);
    const paused = await pauseTurn(client, 'kept.md');
    client.close();
    await first.kill();

    const second = await start(env);
    const pending = await apiClient(second.baseUrl)('GET', `/sessions/${sessionId}/approvals`);
    expect(pending.body.approvals).toEqual([expect.objectContaining({ tool_call_id: 'call_kept_md', status: 'pending', turn_id: paused.turn_id })]);
    const requestsBefore = fake.requests.length;
    const fresh = await chat(second.baseUrl, sessionId);
    const events = await approveAndFinish(fresh, 'call_kept_md', paused.turn_id!);
    expect(events.filter((e) => e.type === 'function_completed')).toEqual([expect.objectContaining({ tool_call_id: 'call_kept_md', tool_success: true })]);
    expect(events.at(-1)).toMatchObject({ type: 'assistant_end', finish_reason: 'stop' });
    expect(events.every((e) => e.seq! > paused.seq!)).toBe(true);
    expect(fake.requests.length).toBe(requestsBefore + 1);
    expect(JSON.stringify(fake.requests.at(-1)!.body.messages)).toContain('call_kept_md');
    const file = path.join(env.DATA_DIR!, 'sessions', sessionId, 'output', 'kept.md');
    expect(readFileSync(file, 'utf8')).toBe('hello kept.md');
    const rows = await toolRows(second.baseUrl, sessionId, 'call_kept_md');
    expect(rows).toEqual([expect.objectContaining({ status: 'completed' })]);
  });

  it.skipIf(!TEST_DATABASE_URL)('the death of its server: a second server on the same PostgreSQL takes the approval and ends the turn', { timeout: 90_000 }, async () => {
    const env = await freshEnv('postgres');
    const a = await start(env);
    const b = await start(env);
    const sessionId = await createSession(a.baseUrl, 'Cluster');
    const onA = await chat(a.baseUrl, sessionId);
    const paused = await pauseTurn(onA, 'moved.md');
    onA.close();
    await a.kill();

    const onB = await chat(b.baseUrl, sessionId);
    const events = await approveAndFinish(onB, 'call_moved_md', paused.turn_id!);
    expect(events.filter((e) => e.type === 'function_completed')).toEqual([expect.objectContaining({ tool_call_id: 'call_moved_md', tool_success: true })]);
    expect(events.at(-1)).toMatchObject({ type: 'assistant_end', finish_reason: 'stop' });
    expect(existsSync(path.join(env.DATA_DIR!, 'sessions', sessionId, 'output', 'moved.md'))).toBe(true);
    expect(await toolRows(b.baseUrl, sessionId, 'call_moved_md')).toEqual([expect.objectContaining({ status: 'completed' })]);
  });

  it.skipIf(!TEST_DATABASE_URL)('two servers answering at once: the tool runs once and the turn ends once', { timeout: 90_000 }, async () => {
    const env = await freshEnv('postgres');
    const a = await start(env);
    const b = await start(env);
    const sessionId = await createSession(a.baseUrl, 'Race');
    const onA = await chat(a.baseUrl, sessionId);
    const paused = await pauseTurn(onA, 'once.md');
    const onB = await chat(b.baseUrl, sessionId);
    const decisions = await Promise.all([
      apiClient(a.baseUrl)('POST', `/sessions/${sessionId}/approvals/call_once_md`, { decision: 'approve' }),
      apiClient(b.baseUrl)('POST', `/sessions/${sessionId}/approvals/call_once_md`, { decision: 'approve' }),
    ]);
    expect(decisions.map((d) => d.status).sort()).toEqual([200, 409]);
    await onB.until((events) => events.some((e) => e.type === 'assistant_end' && e.turn_id === paused.turn_id && e.finish_reason === 'stop'));
    const completed = onB.events.filter((e) => e.type === 'function_completed' && e.turn_id === paused.turn_id);
    expect(completed).toHaveLength(1);
    expect(await toolRows(b.baseUrl, sessionId, 'call_once_md')).toEqual([expect.objectContaining({ status: 'completed' })]);
  });
});
