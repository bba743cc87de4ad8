/**
 * A chat turn inside a real `src/main.ts` process, stopped by a signal while the model streams:
 * SIGTERM saves the partial and says goodbye; SIGKILL loses at most the last 2 s.
 * The model is the fake server over real HTTP; the database is PGlite on disk in DATA_DIR, or a
 * fresh PostgreSQL database when TEST_DATABASE_URL is set.
 */
import { rmSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import WebSocket from 'ws';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { apiClient } from '../support/api.js';
import { frameText } from '../support/chat-client.js';
import { createEmptyPostgresDatabase, TEST_DATABASE_URL } from '../support/database.js';
import { startFakeOpenAI, type FakeOpenAI } from '../support/fake-openai.js';
import { dataDirWithoutBuiltins, fakeModelEnv, spawnPulpRaw } from '../support/pulp-process.js';

const DELTA_COUNT = 400;
const PACE_MS = 50;
/** The model's whole answer: numbered words, so any prefix is recognisable. */
const DELTAS = Array.from({ length: DELTA_COUNT }, (_, i) => `w${i} `);
const FULL_TEXT = DELTAS.join('');

let fake: FakeOpenAI;
const cleanups: Array<() => Promise<void> | void> = [];

beforeAll(async () => {
  fake = await startFakeOpenAI();
  fake.setHandler(() => ({ steps: [{ type: 'pace', ms: PACE_MS }, { type: 'text', deltas: DELTAS }] }));
});
afterAll(async () => {
  await fake.close();
});
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

/** A fresh DATA_DIR (and PostgreSQL database when configured) for one test; removed afterwards. */
async function freshEnv(): Promise<Record<string, string>> {
  const DATA_DIR = dataDirWithoutBuiltins('pulp-chatproc-');
  cleanups.push(() => rmSync(DATA_DIR, { recursive: true, force: true }));
  const env: Record<string, string> = { DATA_DIR, ...fakeModelEnv(fake.baseUrl), CODE_INTERPRETER: 'off' };
  if (TEST_DATABASE_URL) {
    const pgdb = await createEmptyPostgresDatabase();
    cleanups.push(() => pgdb.drop());
    env.DATABASE_URL = pgdb.url;
  }
  return env;
}

/** Starts Pulp and makes sure the test ends it, whatever happens (even a start that never listens). */
async function start(env: Record<string, string>) {
  const p = spawnPulpRaw(env);
  cleanups.push(async () => {
    if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
    await p.exited;
  });
  const line = await p.waitForLine((l) => l.includes('Pulp listening on'));
  const baseUrl = /listening on (http:\/\/[^"\s]+)/.exec(line)?.[1];
  if (!baseUrl) throw new Error(`no address in: ${line}`);
  return { ...p, baseUrl };
}

interface Received {
  text: string;
  at: number;
}

/** A chat socket that records every assistant delta with its receive time. */
async function openChat(baseUrl: string, sessionId: string) {
  const ws = new WebSocket(`${baseUrl.replace(/^http/, 'ws')}/ws/chat/${sessionId}`);
  cleanups.push(() => ws.terminate());
  const deltas: Received[] = [];
  const events: Array<{ type: string; [k: string]: unknown }> = [];
  const watchers: Array<() => void> = [];
  ws.on('message', (data) => {
    const at = performance.now();
    const event = JSON.parse(frameText(data)) as { type: string; content?: string };
    events.push(event);
    if (event.type === 'assistant_delta') deltas.push({ text: event.content ?? '', at });
    for (const w of [...watchers]) w();
  });
  const closed = new Promise<{ code: number }>((resolve) => ws.on('close', (code) => resolve({ code })));
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  /** Resolves once `pred` holds after some message. */
  const until = (pred: () => boolean): Promise<void> =>
    new Promise((resolve) => {
      if (pred()) return resolve();
      const w = () => {
        if (!pred()) return;
        watchers.splice(watchers.indexOf(w), 1);
        resolve();
      };
      watchers.push(w);
    });
  const text = (before = Infinity) =>
    deltas
      .filter((d) => d.at <= before)
      .map((d) => d.text)
      .join('');
  return { ws, deltas, events, closed, until, text };
}

async function createSession(baseUrl: string): Promise<string> {
  const created = await apiClient(baseUrl)('POST', '/sessions', { title: 'signals' });
  expect(created.status).toBe(201);
  return created.body.session_id as string;
}

async function assistantRows(baseUrl: string, sessionId: string) {
  const res = await apiClient(baseUrl)('GET', `/sessions/${sessionId}`);
  expect(res.status).toBe(200);
  return (res.body.messages as Array<{ role: string; content: string; partial: boolean }>).filter((m) => m.role === 'assistant');
}

describe('a chat process stopped by a signal while the model streams', () => {
  it('on SIGTERM tells the client, closes with 1001, exits 0 and keeps the streamed text as a partial', { timeout: 90_000 }, async () => {
    const env = await freshEnv();
    const first = await start(env);
    const sessionId = await createSession(first.baseUrl);
    const chat = await openChat(first.baseUrl, sessionId);
    chat.ws.send(JSON.stringify({ type: 'message', messages: [{ content: 'talk for a while' }] }));
    await chat.until(() => chat.deltas.length >= 10);

    const killedAt = performance.now();
    first.child.kill('SIGTERM');
    const [code, closed] = await Promise.all([first.exited, chat.closed]);
    const exitMs = performance.now() - killedAt;
    const received = chat.text();

    expect(chat.events.map((e) => e.type)).toContain('server_shutdown');
    expect(closed.code).toBe(1001);
    expect(code).toBe(0);
    expect(exitMs).toBeLessThan(12_000);
    expect(received.length).toBeGreaterThan(0);

    const second = await start(env);
    const rows = await assistantRows(second.baseUrl, sessionId);
    expect(rows).toHaveLength(1);
    const saved = rows[0]!;
    expect(saved.partial).toBe(true);
    expect(saved.content.length).toBeLessThan(FULL_TEXT.length);
    expect(FULL_TEXT.startsWith(saved.content)).toBe(true);
    expect(saved.content.startsWith(received)).toBe(true);
  });

  it('on SIGKILL loses at most the last 2 s of the text the client had received', { timeout: 90_000 }, async () => {
    const env = await freshEnv();
    const first = await start(env);
    const sessionId = await createSession(first.baseUrl);
    const chat = await openChat(first.baseUrl, sessionId);
    chat.ws.send(JSON.stringify({ type: 'message', messages: [{ content: 'talk for a while' }] }));
    // Stream past the first 2 s checkpoint and part of the way to the second.
    await chat.until(() => chat.deltas.length > 0 && chat.deltas.at(-1)!.at - chat.deltas[0]!.at >= 3_000);

    const killedAt = performance.now();
    first.child.kill('SIGKILL');
    expect(await first.exited).toBe('SIGKILL');
    const mustKeep = chat.text(killedAt - 2_000);
    expect(mustKeep.length).toBeGreaterThan(0);

    const second = await start(env);
    const rows = await assistantRows(second.baseUrl, sessionId);
    expect(rows).toHaveLength(1);
    const saved = rows[0]!;
    expect(saved.partial).toBe(true);
    expect(FULL_TEXT.startsWith(saved.content)).toBe(true);
    expect(saved.content.startsWith(mustKeep)).toBe(true);
  });
});
