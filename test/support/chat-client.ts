/**
 * A chat socket client for tests against a real server: it records every event (pings aside) and
 * lets a test await a condition on them (no sleeps); plus session creation over REST.
 */
import { performance } from 'node:perf_hooks';
import WebSocket from 'ws';
import { apiClient } from './api.js';

/** The text of a WebSocket message (a Buffer, an ArrayBuffer, or fragments). */
export function frameText(data: WebSocket.RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return (Buffer.isBuffer(data) ? data : Buffer.from(data)).toString('utf8');
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
  /** Drops the connection: nothing arriving after this counts as received, as for a user whose connection broke. */
  close(): void;
}

/** Opens a chat socket; `token` (jwt mode) goes as the `bearer` subprotocol. */
export async function openChat(baseUrl: string, sessionId: string, token?: string): Promise<ChatClient> {
  const url = `${baseUrl.replace(/^http/, 'ws')}/ws/chat/${sessionId}`;
  const ws = token ? new WebSocket(url, ['bearer', token]) : new WebSocket(url);
  const events: Event[] = [];
  const watchers = new Set<() => void>();
  // A frame already read off the socket can still be handed over after terminate().
  let dropped = false;
  ws.on('message', (data) => {
    if (dropped) return;
    const event = JSON.parse(frameText(data)) as Event;
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
    close: () => {
      dropped = true;
      ws.terminate();
    },
  };
}

/** Creates a session over REST (titled, so no title request to the model follows its first turn). */
export async function createSession(baseUrl: string, title = 'cluster'): Promise<string> {
  const created = await apiClient(baseUrl)('POST', '/sessions', { title });
  if (created.status !== 201) throw new Error(`create session: ${created.status}`);
  return created.body.session_id as string;
}

export const ended = (turnId?: string) => (events: Event[]) =>
  events.some((e) => e.type === 'assistant_end' && (turnId === undefined || e.turn_id === turnId));
export const deltasOf = (events: Event[], turnId?: string) =>
  events.filter((e) => e.type === 'assistant_delta' && (turnId === undefined || e.turn_id === turnId)).length;
