/**
 * Several real Pulp processes on one fresh PostgreSQL database, a shared DATA_DIR, and the fake
 * model; plus a chat socket client that records events and lets a test await them (no sleeps).
 */
import { rmSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import WebSocket from 'ws';
import { apiClient } from '../support/api.js';
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

export interface Event {
  type: string;
  turn_id?: string;
  seq?: number;
  content?: string;
  finish_reason?: string;
  [k: string]: unknown;
}

export interface ChatClient {
  ws: WebSocket;
  events: Event[];
  /** Resolves with the first event (from now or already received) that matches. */
  until(pred: (events: Event[]) => boolean): Promise<void>;
  send(frame: unknown): void;
  /** Assistant text of one turn, in the order received. */
  text(turnId?: string): string;
  close(): void;
}

export async function openChat(baseUrl: string, sessionId: string): Promise<ChatClient> {
  const ws = new WebSocket(`${baseUrl.replace(/^http/, 'ws')}/ws/chat/${sessionId}`);
  const events: Event[] = [];
  const watchers = new Set<() => void>();
  ws.on('message', (data) => {
    const event = JSON.parse((data as Buffer).toString('utf8')) as Event;
    if (event.type === 'ping') return;
    events.push({ ...event, receivedAt: performance.now() });
    for (const w of [...watchers]) w();
  });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  return {
    ws,
    events,
    until: (pred) =>
      new Promise((resolve) => {
        if (pred(events)) return resolve();
        const w = () => {
          if (!pred(events)) return;
          watchers.delete(w);
          resolve();
        };
        watchers.add(w);
      }),
    send: (frame) => ws.send(JSON.stringify(frame)),
    text: (turnId) =>
      events
        .filter((e) => e.type === 'assistant_delta' && (turnId === undefined || e.turn_id === turnId))
        .map((e) => e.content ?? '')
        .join(''),
    close: () => ws.terminate(),
  };
}

export async function createSession(baseUrl: string): Promise<string> {
  const created = await apiClient(baseUrl)('POST', '/sessions', { title: 'cluster' });
  if (created.status !== 201) throw new Error(`create session: ${created.status}`);
  return created.body.session_id as string;
}

export const ended = (turnId?: string) => (events: Event[]) =>
  events.some((e) => e.type === 'assistant_end' && (turnId === undefined || e.turn_id === turnId));
export const deltasOf = (events: Event[], turnId?: string) =>
  events.filter((e) => e.type === 'assistant_delta' && (turnId === undefined || e.turn_id === turnId)).length;
