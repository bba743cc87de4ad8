/**
 * The WebSocket clients of the concurrency scenarios, in a process of their own. Driven by the
 * parent (bench/streams.ts) in JSON lines:
 *
 *   ← {"idle": {"sessions", "perSession"}}       opens idle sockets → {"idleOpen": n}
 *   ← {"streams": {"sessions", "deltas", "paceMs"}}  one session + socket per stream → {"ready": n}
 *   ← {"go": {"timelineMs"?}}                    every stream's message at once → {"result": StreamsResult}
 *                                                (with the run in slices of timelineMs when given)
 *
 * Delay of a delta = receive time − the send time the fake stamped in it (`benchClock`, shared by
 * all processes). A delta frame is matched as text, not parsed: at 50 000 frames a second the
 * clients must not be what is measured.
 */
import WebSocket from 'ws';
import { parentMessages, toParent } from './processes.js';
import { benchPrompt, STAMP } from './scenarios.js';
import { benchClock, percentile } from './stats.js';

const baseUrl = process.argv[2];
if (!baseUrl) throw new Error('usage: stream-clients.ts <server base url>');
/** Sessions created and sockets opened at once while setting up. */
const SETUP_PARALLEL = 32;
const DELTA_PREFIX = '{"type":"assistant_delta"';

export interface StreamsResult {
  /** Turns that ended `stop` with every stamped delta. */
  completed: number;
  sessions: number;
  delay: { p50: number; p99: number; max: number; count: number };
  /** Message sent → first assistant_delta, per turn. */
  first: { p50: number; p99: number; max: number };
  wallMs: number;
  /** The run slice by slice, when the parent asked for it (`go.timelineMs`). */
  timeline?: TimelineSlice[];
}

/** What the clients received in one slice of a run, its time counted from the moment the messages went. */
export interface TimelineSlice {
  fromMs: number;
  deltas: number;
  /** Absent when no delta came in the slice. */
  delay?: { p50: number; p99: number; max: number };
  /** Turns whose first delta, and whose `assistant_end`, came in the slice. */
  firsts: number;
  ends: number;
}

async function createSession(): Promise<string> {
  const res = await fetch(`${baseUrl}/api/v1/sessions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ title: 'bench' }) });
  if (res.status !== 201) throw new Error(`POST /sessions answered ${res.status}`);
  return ((await res.json()) as { session_id: string }).session_id;
}

function connect(sessionId: string): Promise<WebSocket> {
  const ws = new WebSocket(`${baseUrl!.replace(/^http/, 'ws')}/ws/chat/${sessionId}`);
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

/** Runs `fn(0..n-1)` with at most SETUP_PARALLEL at a time. */
async function inParallel<T>(n: number, fn: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = new Array<T>(n);
  let nextIndex = 0;
  const worker = async (): Promise<void> => {
    while (nextIndex < n) {
      const i = nextIndex++;
      out[i] = await fn(i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(SETUP_PARALLEL, n) }, worker));
  return out;
}

/** The largest value (a spread of 200 000 values would overflow the stack). */
function maxOf(values: number[]): number {
  let max = Number.NaN;
  for (const v of values) if (!(v <= max)) max = v;
  return max;
}

interface Stream {
  ws: WebSocket;
  sentAt: number;
  firstAt: number;
  endAt: number;
  stamps: number;
  finish: string;
}

/** Every delta's delay, and (for a timeline) when it came. */
interface Received {
  delays: number[];
  receivedAt: number[] | undefined;
}

/** The run in slices of `sliceMs` from `start`. */
function timelineOf(streams: readonly Stream[], received: Received, start: number, sliceMs: number): TimelineSlice[] {
  const slice = (at: number): number => Math.max(0, Math.floor((at - start) / sliceMs));
  const slices: Array<{ delays: number[]; firsts: number; ends: number }> = [];
  const sliceAt = (i: number) => (slices[i] ??= { delays: [], firsts: 0, ends: 0 });
  received.receivedAt?.forEach((t, i) => sliceAt(slice(t)).delays.push(received.delays[i]!));
  for (const s of streams) {
    if (s.stamps > 0) sliceAt(slice(s.firstAt)).firsts++;
    if (s.finish !== '') sliceAt(slice(s.endAt)).ends++;
  }
  return Array.from(slices, (x, i) => {
    const { delays, firsts, ends } = x ?? { delays: [], firsts: 0, ends: 0 };
    const delay = delays.length > 0 ? { delay: { p50: percentile(delays, 50), p99: percentile(delays, 99), max: maxOf(delays) } } : {};
    return { fromMs: i * sliceMs, deltas: delays.length, ...delay, firsts, ends };
  });
}

/** Sends one message on every stream at once; resolves when every turn has ended. */
function runStreams(streams: Stream[], deltas: number, paceMs: number, received: Received): Promise<void> {
  const { delays, receivedAt } = received;
  let open = streams.length;
  return new Promise((resolve, reject) => {
    for (const s of streams) {
      const onMessage = (data: WebSocket.RawData): void => {
        const at = benchClock();
        const text = (data as Buffer).toString('utf8');
        if (text.startsWith(DELTA_PREFIX)) {
          if (s.stamps === 0) s.firstAt = at;
          for (const m of text.matchAll(STAMP)) {
            delays.push(at - Number(m[1]));
            receivedAt?.push(at);
            s.stamps++;
          }
          return;
        }
        const event = JSON.parse(text) as { type: string; finish_reason?: string };
        if (event.type !== 'assistant_end') return;
        s.finish = event.finish_reason ?? '';
        s.endAt = at;
        s.ws.off('message', onMessage);
        if (--open === 0) resolve();
      };
      s.ws.on('message', onMessage);
      s.ws.once('close', () => reject(new Error('a streaming socket closed during its turn')));
    }
    const content = benchPrompt(deltas, paceMs, 'stamped');
    for (const s of streams) {
      s.sentAt = benchClock();
      s.ws.send(JSON.stringify({ type: 'message', messages: [{ content }] }));
    }
  });
}

const next = parentMessages();
const idle: WebSocket[] = [];
let streams: Stream[] = [];
let plan = { deltas: 0, paceMs: 0 };
for (;;) {
  const message = (await next()) as {
    idle?: { sessions: number; perSession: number };
    streams?: { sessions: number; deltas: number; paceMs: number };
    go?: { timelineMs?: number };
  };
  if (message.idle) {
    const { sessions, perSession } = message.idle;
    const ids = await inParallel(sessions, () => createSession());
    idle.push(...(await inParallel(sessions * perSession, (i) => connect(ids[i % sessions]!))));
    toParent({ idleOpen: idle.filter((ws) => ws.readyState === ws.OPEN).length });
  } else if (message.streams) {
    plan = message.streams;
    streams = await inParallel(message.streams.sessions, async () => ({ ws: await connect(await createSession()), sentAt: 0, firstAt: Number.NaN, endAt: Number.NaN, stamps: 0, finish: '' }));
    toParent({ ready: streams.length });
  } else if (message.go) {
    const sliceMs = message.go.timelineMs;
    const received: Received = { delays: [], receivedAt: sliceMs ? [] : undefined };
    const { delays } = received;
    const start = benchClock();
    await runStreams(streams, plan.deltas, plan.paceMs, received);
    const wallMs = benchClock() - start;
    const firsts = streams.map((s) => s.firstAt - s.sentAt);
    const result: StreamsResult = {
      completed: streams.filter((s) => s.finish === 'stop' && s.stamps === plan.deltas).length,
      sessions: streams.length,
      delay: { p50: percentile(delays, 50), p99: percentile(delays, 99), max: maxOf(delays), count: delays.length },
      first: { p50: percentile(firsts, 50), p99: percentile(firsts, 99), max: maxOf(firsts) },
      wallMs,
      ...(sliceMs ? { timeline: timelineOf(streams, received, start, sliceMs) } : {}),
    };
    for (const s of streams) s.ws.close();
    streams = [];
    toParent({ result, idleStillOpen: idle.filter((ws) => ws.readyState === ws.OPEN).length });
  }
}
