/**
 * The measured scenarios: raw SSE read, the SDK floor, one turn through Pulp over a WebSocket,
 * and many concurrent paced turns. The fake model reads its script from the user's message:
 * `bench <deltas> <pace ms> <plain|stamped>`; stamped deltas carry their send time.
 */
import { performance } from 'node:perf_hooks';
import { Agent, OpenAIProvider, Runner, type ModelProvider } from '@openai/agents';
import OpenAI from 'openai';
import type WebSocket from 'ws';
import pino from 'pino';
import { ContextStore } from '../src/chat/context-store.js';
import { migrate } from '../src/db/migrate.js';
import { createPostgresDatabase } from '../src/db/postgres-driver.js';
import { NativeModelProvider, openAIEndpoint } from '../src/llm/adapters/index.js';
import { createMetrics } from '../src/observability/metrics.js';
import { UsageMeter } from '../src/usage/usage-meter.js';
import type { FakeOpenAI, FakeResponse, RecordedRequest } from '../test/support/fake-openai.js';
import type { PulpChild } from './pulp-child.js';
import { benchClock, median } from './stats.js';

export const benchPrompt = (deltas: number, paceMs = 0, kind: 'plain' | 'stamped' = 'plain'): string => `bench ${deltas} ${paceMs} ${kind}`;

/** Send time of a stamped delta, in `benchClock` milliseconds (fake and client may be different processes). */
export const STAMP = /<(\d+\.\d+)>/g;

/** The fake model's script for a bench prompt (the last user message of a chat completions request). */
export function benchScript(req: RecordedRequest): FakeResponse | undefined {
  const messages = (req.body.messages ?? []) as Array<{ role: string; content: unknown }>;
  const last = [...messages].reverse().find((m) => m.role === 'user');
  const match = /bench (\d+) (\d+) (plain|stamped)/.exec(typeof last?.content === 'string' ? last.content : JSON.stringify(last?.content ?? ''));
  if (!match) return undefined;
  const count = Number(match[1]);
  const text = match[3] === 'stamped' ? () => `<${benchClock().toFixed(3)}>` : (i: number) => `w${i} `;
  return { steps: [{ type: 'pace', ms: Number(match[2]) }, { type: 'generated', count, text }], usage: { input_tokens: 10, output_tokens: count } };
}

export interface Timing {
  /** Start → first text delta. */
  firstMs: number;
  /** Start → last text delta. */
  lastMs: number;
  /** Start → the run's end, ledger write included (usage overhead only). */
  endMs?: number;
}

/** Raw read: POST the chat completions request with fetch and consume the SSE bytes. */
export async function rawRead(fake: FakeOpenAI, deltas: number): Promise<Timing> {
  const start = performance.now();
  const res = await fetch(`${fake.baseUrl}/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: 'Bearer test' },
    body: JSON.stringify({ model: 'gpt-4o-mini', stream: true, messages: [{ role: 'user', content: benchPrompt(deltas) }] }),
  });
  let first = Number.NaN;
  let bytes = 0;
  for await (const chunk of res.body!) {
    if (Number.isNaN(first)) first = performance.now();
    bytes += (chunk as Uint8Array).byteLength;
  }
  if (bytes === 0) throw new Error('raw read got no bytes');
  return { firstMs: first - start, lastMs: performance.now() - start };
}

/** One delta of a plain bench answer (`w<i> `). */
const WORD = /w\d+ /g;

/** The floor: the @openai/agents SDK in this process consuming the same stream to its end. */
export function sdkFloor(fake: FakeOpenAI): (deltas: number) => Promise<Timing> {
  const openAIClient = new OpenAI({ baseURL: fake.baseUrl, apiKey: 'test', maxRetries: 0 });
  return runnerFloor(new OpenAIProvider({ openAIClient, useResponses: false }), 'SDK');
}

/** The same Runner over Pulp's native Chat Completions adapter (what Pulp uses by default). */
export function nativeFloor(fake: FakeOpenAI): (deltas: number) => Promise<Timing> {
  return runnerFloor(new NativeModelProvider(openAIEndpoint(fake.baseUrl, 'test'), 'chat_completions', { readTimeoutMs: 600_000, maxRetries: 0 }), 'native');
}

/** `Runner.run(…, { stream: true })` over `modelProvider`, iterated to its end. */
function runnerFloor(modelProvider: ModelProvider, label: string): (deltas: number) => Promise<Timing> {
  const runner = new Runner({ modelProvider, tracingDisabled: true });
  const agent = new Agent({ name: 'bench', instructions: 'You are a benchmark.', model: 'gpt-4o-mini' });
  return async (deltas) => {
    const start = performance.now();
    const result = await runner.run(agent, benchPrompt(deltas), { stream: true });
    let first = Number.NaN;
    let last = Number.NaN;
    let count = 0;
    for await (const event of result) {
      if (event.type === 'raw_model_stream_event' && event.data.type === 'output_text_delta') {
        last = performance.now();
        if (count === 0) first = last;
        // The native adapter joins the pieces it reads in one network chunk: count the fake's words.
        count += event.data.delta.match(WORD)?.length ?? 0;
      }
    }
    await result.completed;
    if (count !== deltas) throw new Error(`the ${label} adapter saw ${count} of the ${deltas} deltas' words`);
    return { firstMs: first - start, lastMs: last - start };
  };
}

export interface UsageOverhead {
  /** Message → first delta, without and with the meter (medians). */
  firstMs: { plain: number; metered: number };
  /** Message → end of the run (`completed`), which includes the ledger write (medians). */
  endMs: { plain: number; metered: number };
  /** Median of the paired differences (metered − plain of each alternated pair), first delta and end. */
  pairedMs: { first: number; end: number };
  /** Ledger rows written, as a check that the metered runs recorded every call. */
  rows: number;
}

/**
 * What usage accounting adds to a turn, measured as the turn does it: the write of the user's
 * words and the context read that precede every first model call, then the native-adapter Runner
 * — plain, or with the budget check started before that write and awaited with the read, and a
 * `UsageMeter` provider on PostgreSQL writing the ledger row (the end of the run waits for it, as
 * the turn does). A budget and prices are configured so every step runs.
 * Plain and metered runs alternate, so drift of a shared machine falls on both alike.
 */
export async function usageOverhead(fake: FakeOpenAI, url: string, reps: number): Promise<UsageOverhead> {
  const db = createPostgresDatabase({ url, poolMax: 4, statementTimeoutMs: 30_000, logger: pino({ level: 'silent' }) });
  try {
    await migrate(db);
    const { rows } = await db.query<{ id: string }>("INSERT INTO users (email) VALUES ('bench@example.test') RETURNING id");
    const userId = rows[0]!.id;
    const { rows: sessions } = await db.query<{ id: string }>("INSERT INTO sessions (user_id, session_id, model) VALUES ($1, 'chat_bench00usage', 'gpt-4o-mini') RETURNING id", [userId]);
    const context = new ContextStore(db, sessions[0]!.id);
    const meter = new UsageMeter({
      db,
      logger: pino({ level: 'silent' }),
      metrics: createMetrics(),
      provider: 'openai',
      prices: { 'gpt-4o-mini': { input: 0.15, cached_input: 0.075, output: 0.6 } },
      budgets: { tokensPerDay: 1e12, tokensPerMonth: 1e12, costPerDay: 1e6, costPerMonth: 1e6 },
    });
    const base = new NativeModelProvider(openAIEndpoint(fake.baseUrl, 'test'), 'chat_completions', { readTimeoutMs: 600_000, maxRetries: 0 });
    const agent = new Agent({ name: 'bench', instructions: 'You are a benchmark.', model: 'gpt-4o-mini' });
    // What a turn commits before its first model call (its user's words and counters), as one write.
    const saveWords = () => db.transaction((tx) => tx.query('UPDATE sessions SET turn_count = turn_count + 1, last_used_at = now() WHERE id = $1', [sessions[0]!.id]));
    const run = async (metered: boolean): Promise<Timing> => {
      const start = performance.now();
      let provider: ModelProvider = base;
      let settled = (): Promise<void> => Promise.resolve();
      if (metered) {
        // As a turn does: the words first, the check beside the reads, awaited by the first call.
        const words = saveWords();
        const budget = meter.assertWithinBudget(userId);
        await words;
        await context.getItems();
        const m = meter.models(base, { userId, sessionUuid: sessions[0]!.id, turnId: 'bench', purpose: 'turn' }, { firstCallBudget: budget });
        provider = m;
        settled = () => m.settled();
      } else {
        await saveWords();
        await context.getItems();
      }
      const result = await new Runner({ modelProvider: provider, tracingDisabled: true }).run(agent, benchPrompt(5), { stream: true });
      let first = Number.NaN;
      for await (const event of result) {
        if (Number.isNaN(first) && event.type === 'raw_model_stream_event' && event.data.type === 'output_text_delta') first = performance.now();
      }
      await result.completed;
      await settled();
      return { firstMs: first - start, lastMs: Number.NaN, endMs: performance.now() - start };
    };
    await run(false);
    await run(true);
    const runs = { plain: [] as Timing[], metered: [] as Timing[] };
    for (let i = 0; i < reps; i++) {
      runs.plain.push(await run(false));
      runs.metered.push(await run(true));
    }
    const med = (ts: Timing[], key: 'firstMs' | 'endMs') => median(ts.map((t) => t[key] ?? Number.NaN));
    const { rows: counted } = await db.query<{ n: string }>('SELECT count(*) AS n FROM model_calls');
    return {
      firstMs: { plain: med(runs.plain, 'firstMs'), metered: med(runs.metered, 'firstMs') },
      endMs: { plain: med(runs.plain, 'endMs'), metered: med(runs.metered, 'endMs') },
      pairedMs: {
        first: median(runs.metered.map((m, i) => m.firstMs - runs.plain[i]!.firstMs)),
        end: median(runs.metered.map((m, i) => (m.endMs ?? Number.NaN) - (runs.plain[i]!.endMs ?? Number.NaN))),
      },
      rows: Number(counted[0]!.n),
    };
  } finally {
    await db.close();
  }
}

export interface TurnResult extends Timing {
  finishReason: string;
  text: string;
  /** Receive time (`benchClock`) and content of every assistant_delta frame. */
  frames: Array<{ at: number; content: string }>;
}

/** Sends one message on `ws` and resolves at the turn's assistant_end. */
export function wsTurn(ws: WebSocket, content: string): Promise<TurnResult> {
  return new Promise((resolve, reject) => {
    const frames: Array<{ at: number; content: string }> = [];
    const onMessage = (data: WebSocket.RawData): void => {
      const at = benchClock();
      const event = JSON.parse((data as Buffer).toString('utf8')) as { type: string; content?: string; finish_reason?: string };
      if (event.type === 'assistant_delta') frames.push({ at, content: event.content ?? '' });
      else if (event.type === 'assistant_end') {
        ws.off('message', onMessage);
        ws.off('close', onClose);
        const first = frames[0]?.at ?? Number.NaN;
        const last = frames.at(-1)?.at ?? Number.NaN;
        resolve({ firstMs: first - start, lastMs: last - start, finishReason: event.finish_reason ?? '', text: frames.map((f) => f.content).join(''), frames });
      }
    };
    const onClose = (): void => reject(new Error('the socket closed during a turn'));
    ws.on('message', onMessage);
    ws.on('close', onClose);
    const start = benchClock();
    ws.send(JSON.stringify({ type: 'message', messages: [{ content }] }));
  });
}

/** One turn in a fresh session of `pulp` (fresh so every repetition starts from the same context). */
export async function pulpTurn(pulp: PulpChild, content: string): Promise<TurnResult> {
  const ws = await pulp.connect(await pulp.createSession());
  try {
    return await wsTurn(ws, content);
  } finally {
    ws.close();
  }
}

export interface ConcurrentResult {
  completed: number;
  /** Client receive time − the fake model's send time, one per delivered delta (ms). */
  delays: number[];
  wallMs: number;
}

/** `sessions` sessions, each streaming `deltas` stamped deltas paced at `paceMs`, all at once. */
export async function concurrentTurns(pulp: PulpChild, sessions: number, deltas: number, paceMs: number): Promise<ConcurrentResult> {
  const sockets: WebSocket[] = [];
  try {
    for (let i = 0; i < sessions; i++) sockets.push(await pulp.connect(await pulp.createSession()));
    const start = performance.now();
    const results = await Promise.all(sockets.map((ws) => wsTurn(ws, benchPrompt(deltas, paceMs, 'stamped'))));
    const wallMs = performance.now() - start;
    const delays: number[] = [];
    let completed = 0;
    for (const r of results) {
      let stamps = 0;
      for (const f of r.frames) {
        for (const m of f.content.matchAll(STAMP)) {
          delays.push(f.at - Number(m[1]));
          stamps++;
        }
      }
      if (r.finishReason === 'stop' && stamps === deltas) completed++;
    }
    return { completed, delays, wallMs };
  } finally {
    for (const ws of sockets) ws.close();
  }
}
