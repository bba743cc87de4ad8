/**
 * Failover under load, as operators see it: several compiled Pulp servers on one PostgreSQL, many
 * chats of paced turns spread over them, a random server SIGKILLed and replaced every few seconds;
 * each client whose server died reconnects to a random live one and goes on. Used by the chaos test
 * (test/cluster/chaos.test.ts) and `npm run bench:cluster`.
 */
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import WebSocket from 'ws';
import { percentile } from '../../bench/stats.js';
import type { FakeResponse, RecordedRequest } from '../support/fake-openai.js';
import { createSession, startServer, type Server } from './support.js';

export interface ChaosOptions {
  servers: number;
  chats: number;
  /** How long chats take turns while servers are killed. */
  durationMs: number;
  killEveryMs: number;
  /** A turn streams `deltas` deltas `paceMs` apart. */
  deltas: number;
  paceMs: number;
  /** The servers' environment (DATABASE_URL, the fake model, DATA_DIR). */
  env: Record<string, string>;
  url: string;
  seed?: number;
  log?: (message: string) => void;
}

export interface ChaosReport {
  servers: number;
  chats: number;
  kills: number;
  /** Turns that ended, as their clients saw them. */
  turns: number;
  /** Messages whose `assistant_start` the client received: the server said they are saved. */
  acknowledged: number;
  /** Acknowledged messages stored 0 times, and messages stored more than once. */
  lost: string[];
  duplicated: string[];
  /** `assistant_end{interrupted}` on a socket that stayed open, from a client that never interrupted. */
  unaskedInterrupts: string[];
  /** Turns that ended with `error` (code → count). */
  errors: Record<string, number>;
  /** chat_turns rows without an end, and messages rows still marked streaming, at the end. */
  unended: number;
  streaming: number;
  /** Chats that completed one more turn after the chaos, out of `chats`. */
  usableAfterwards: number;
  /** Message sent → `assistant_end{stop}`, for turns no kill happened during. */
  turnMs: number[];
  /** Message sent → `assistant_start`, for the same turns. */
  startMs: number[];
  /** SIGKILL → the next turn of each chat that was on the killed server done. */
  recoveryMs: number[];
  /** Recoveries that did not happen before the end of the run. */
  unrecovered: number;
  /** Where a recovery's time goes, from the kill: socket closed, reconnected, next turn's `assistant_start`. */
  recoveryPhases: Array<{ closedMs: number; connectedMs: number; startedMs: number }>;
}

/** The fake model's answer to a chaos message: `deltas` words, `paceMs` apart. */
export function chaosScript(deltas: number, paceMs: number): (req: RecordedRequest) => FakeResponse {
  return () => ({
    steps: [{ type: 'pace', ms: paceMs }, { type: 'generated', count: deltas, text: (i) => `w${i} ` }],
    usage: { input_tokens: 10, output_tokens: deltas },
  });
}

/** A small seeded generator, so a run can be repeated (mulberry32). */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Kill {
  server: Server;
  at: number;
}

/** The live servers, the kills so far, and the replacement of a killed server. */
class Fleet {
  readonly live: Server[] = [];
  readonly kills: Kill[] = [];
  readonly all: Server[] = [];
  constructor(
    private readonly env: Record<string, string>,
    private readonly rand: () => number,
  ) {}

  async start(n: number): Promise<void> {
    const started = await Promise.all(Array.from({ length: n }, () => startServer(this.env)));
    this.live.push(...started);
    this.all.push(...started);
  }

  pick(): Server {
    return this.live[Math.floor(this.rand() * this.live.length)]!;
  }

  async killOneAndReplace(): Promise<void> {
    const victim = this.live.splice(Math.floor(this.rand() * this.live.length), 1)[0]!;
    this.kills.push({ server: victim, at: performance.now() });
    victim.child.kill('SIGKILL');
    await victim.exited;
    const replacement = await startServer(this.env);
    this.live.push(replacement);
    this.all.push(replacement);
  }

  async stop(): Promise<void> {
    await Promise.all(this.all.map((s) => s.stop()));
  }
}

/** A chat cut by a kill goes on past the end of the run until it completed a turn, at most this long. */
const RECOVERY_GRACE_MS = 20_000;

/** Errors a turn ends with after the user's words were saved (the rest may come before). */
const SAVED_DESPITE_ERROR = new Set(['DB_8003', 'EXT_7010', 'EXT_7002', 'EXT_7003']);

type TurnResult = { kind: 'ended'; finish: string; code?: string; acknowledged: boolean } | { kind: 'cut'; acknowledged: boolean };

/** One chat's client: one socket at a time, one turn at a time, messages numbered. */
class ChatDriver {
  #n = 0;
  #ws: WebSocket | undefined;
  #server: Server | undefined;
  /** Set when the server of this chat's socket was killed, until a turn completes again. */
  cutAt: number | undefined;
  #closedAt = 0;
  #connectedAt = 0;
  #startedAt = 0;
  readonly sent: string[] = [];
  /**
   * Messages whose turn said `assistant_start` (the words are saved) and did not end with an error
   * that says otherwise (a turn that failed before saving still starts and ends, with its `error`).
   */
  readonly acked: string[] = [];

  constructor(
    readonly sessionId: string,
    private readonly fleet: Fleet,
    private readonly report: ChaosReport,
  ) {}

  async connect(): Promise<void> {
    for (;;) {
      const server = this.fleet.pick();
      try {
        const ws = new WebSocket(`${server.baseUrl.replace(/^http/, 'ws')}/ws/chat/${this.sessionId}`);
        await new Promise<void>((resolve, reject) => {
          ws.once('open', () => resolve());
          ws.once('error', reject);
          ws.once('close', () => reject(new Error('closed while opening')));
        });
        ws.on('error', () => undefined); // a killed server's socket closes; 'close' says so
        this.#ws = ws;
        this.#server = server;
        this.#connectedAt = performance.now();
        return;
      } catch {
        // The server picked was just killed; pick again.
      }
    }
  }

  /** Sends one message and follows its turn until it ends or the socket closes. */
  async turn(): Promise<{ result: TurnResult; ms: number; startMs: number }> {
    if (this.#ws && this.#ws.readyState !== WebSocket.OPEN) this.#markCut();
    if (!this.#ws || this.#ws.readyState !== WebSocket.OPEN) await this.connect();
    const ws = this.#ws!;
    const text = `chaos ${this.sessionId} #${++this.#n}`;
    this.sent.push(text);
    const start = performance.now();
    const result = await new Promise<TurnResult>((resolve) => {
      let turnId: string | undefined;
      let code: string | undefined;
      const done = (r: TurnResult) => {
        ws.off('message', onMessage);
        ws.off('close', onClose);
        resolve(r);
      };
      const onMessage = (data: WebSocket.RawData) => {
        const event = JSON.parse((data as Buffer).toString('utf8')) as { type: string; turn_id?: string; finish_reason?: string; code?: string };
        if (event.type === 'assistant_start' && turnId === undefined) {
          turnId = event.turn_id;
          this.#startedAt = performance.now();
        } else if (event.turn_id !== undefined && event.turn_id === turnId) {
          if (event.type === 'error') code = event.code;
          if (event.type === 'assistant_end') {
            if (code === undefined || SAVED_DESPITE_ERROR.has(code)) this.acked.push(text);
            done({ kind: 'ended', finish: event.finish_reason ?? '', acknowledged: true, ...(code ? { code } : {}) });
          }
        }
      };
      const onClose = () => {
        // Cut after assistant_start: the words were saved before it was sent.
        if (turnId !== undefined) this.acked.push(text);
        done({ kind: 'cut', acknowledged: turnId !== undefined });
      };
      ws.on('message', onMessage);
      ws.on('close', onClose);
      ws.send(JSON.stringify({ type: 'message', messages: [{ content: text }] }));
    });
    return { result, ms: performance.now() - start, startMs: this.#startedAt - start };
  }

  #markCut(): void {
    if (this.cutAt !== undefined) return;
    this.cutAt = this.fleet.kills.find((k) => k.server === this.#server)?.at ?? performance.now();
    this.#closedAt = performance.now();
  }

  /**
   * Takes turns until `until`, and past it until a chat cut by a kill has completed a turn again
   * (at most `graceMs` more); records every outcome in the report.
   */
  async run(until: number, graceMs: number): Promise<void> {
    while (performance.now() < until || (this.cutAt !== undefined && performance.now() < until + graceMs)) {
      const killsBefore = this.fleet.kills.length;
      const { result, ms, startMs } = await this.turn();
      if (result.kind === 'cut') {
        this.#markCut();
        continue;
      }
      this.report.turns += 1;
      if (result.finish === 'interrupted') this.report.unaskedInterrupts.push(`${this.sessionId} ${this.sent.at(-1)}`);
      if (result.finish === 'error') this.report.errors[result.code ?? 'none'] = (this.report.errors[result.code ?? 'none'] ?? 0) + 1;
      if (result.finish !== 'stop') continue;
      if (this.cutAt !== undefined) {
        this.report.recoveryMs.push(performance.now() - this.cutAt);
        const from = (t: number) => Math.max(0, t - this.cutAt!);
        this.report.recoveryPhases.push({ closedMs: from(this.#closedAt), connectedMs: from(this.#connectedAt), startedMs: from(this.#startedAt) });
        this.cutAt = undefined;
      } else if (this.fleet.kills.length === killsBefore) {
        this.report.turnMs.push(ms);
        this.report.startMs.push(startMs);
      }
    }
  }

  close(): void {
    this.#ws?.terminate();
  }
}

/** How long the last turns' servers get to record their ends (clients hear the end first). */
const UNENDED_WAIT_MS = 10_000;

/** Turns without a recorded end, once none is left or `ms` have passed, whichever comes first. */
async function openTurnsAfter(db: pg.Client, ms: number): Promise<number> {
  const deadline = performance.now() + ms;
  for (;;) {
    const open = Number((await db.query<{ n: string }>('SELECT count(*) AS n FROM chat_turns WHERE ended_at IS NULL')).rows[0]!.n);
    if (open === 0 || performance.now() > deadline) return open;
    // Poll the database: the end is recorded by another process and nothing here is told.
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Runs the chaos and checks what PostgreSQL kept; stops every server it started. */
export async function runChaos(options: ChaosOptions): Promise<ChaosReport> {
  const seed = options.seed ?? Date.now() % 100_000;
  const log = options.log ?? (() => undefined);
  const rand = random(seed);
  const report: ChaosReport = {
    servers: options.servers,
    chats: options.chats,
    kills: 0,
    turns: 0,
    acknowledged: 0,
    lost: [],
    duplicated: [],
    unaskedInterrupts: [],
    errors: {},
    unended: 0,
    streaming: 0,
    usableAfterwards: 0,
    turnMs: [],
    startMs: [],
    recoveryMs: [],
    unrecovered: 0,
    recoveryPhases: [],
  };
  const fleet = new Fleet(options.env, rand);
  const drivers: ChatDriver[] = [];
  const db = new pg.Client({ connectionString: options.url });
  try {
    await fleet.start(options.servers);
    await db.connect();
    for (let i = 0; i < options.chats; i++) drivers.push(new ChatDriver(await createSession(fleet.pick().baseUrl, `chaos ${i}`), fleet, report));
    log(`seed ${seed}: ${options.servers} servers, ${options.chats} chats, a SIGKILL every ${options.killEveryMs / 1000} s for ${options.durationMs / 1000} s`);
    const began = performance.now();
    const until = began + options.durationMs;
    const chats = Promise.all(drivers.map((d) => d.run(until, RECOVERY_GRACE_MS)));
    for (let k = 1; began + k * options.killEveryMs < until; k++) {
      // A replacement that took longer to start than the interval delays the next kill, never skips it.
      await new Promise((r) => setTimeout(r, Math.max(0, began + k * options.killEveryMs - performance.now())));
      await fleet.killOneAndReplace();
      log(`kill ${k} done, replacement listening`);
    }
    await chats;
    report.kills = fleet.kills.length;
    report.unrecovered = drivers.filter((d) => d.cutAt !== undefined).length;

    // Every session takes a new turn afterwards.
    const afterwards = await Promise.all(drivers.map((d) => d.turn()));
    report.usableAfterwards = afterwards.filter(({ result }) => result.kind === 'ended' && result.finish === 'stop').length;

    const { rows } = await db.query<{ content: string; n: string }>(`SELECT content, count(*) AS n FROM messages WHERE role = 'user' AND content LIKE 'chaos %' GROUP BY content`);
    const stored = new Map(rows.map((r) => [r.content, Number(r.n)]));
    for (const d of drivers) {
      report.acknowledged += d.acked.length;
      for (const text of d.acked) if (!stored.has(text)) report.lost.push(text);
    }
    for (const [text, n] of stored) if (n > 1) report.duplicated.push(text);
    report.unended = await openTurnsAfter(db, UNENDED_WAIT_MS);
    report.streaming = Number((await db.query<{ n: string }>(`SELECT count(*) AS n FROM messages WHERE metadata->>'streaming' = 'true'`)).rows[0]!.n);
    return report;
  } finally {
    for (const d of drivers) d.close();
    await db.end().catch(() => undefined);
    await fleet.stop();
  }
}

/** The figures of a run, for logs and the benchmark table (times in ms, nearest-rank percentiles). */
export function chaosFigures(r: ChaosReport) {
  const p = (xs: number[], q: number) => Math.round(percentile(xs, q));
  return {
    servers: r.servers,
    chats: r.chats,
    kills: r.kills,
    turns: r.turns,
    acknowledged: r.acknowledged,
    lost: r.lost.length,
    duplicated: r.duplicated.length,
    unasked: r.unaskedInterrupts.length,
    errors: r.errors,
    unended: r.unended,
    streaming: r.streaming,
    usable: `${r.usableAfterwards}/${r.chats}`,
    turn: { p50: p(r.turnMs, 50), p99: p(r.turnMs, 99), startP50: p(r.startMs, 50), startP99: p(r.startMs, 99) },
    recovery: { n: r.recoveryMs.length, p50: p(r.recoveryMs, 50), p99: p(r.recoveryMs, 99) },
    recoveryStart: {
      closedP99: p(r.recoveryPhases.map((x) => x.closedMs), 99),
      connectedP99: p(r.recoveryPhases.map((x) => x.connectedMs), 99),
      startedP50: p(r.recoveryPhases.map((x) => x.startedMs), 50),
      startedP99: p(r.recoveryPhases.map((x) => x.startedMs), 99),
    },
  };
}
