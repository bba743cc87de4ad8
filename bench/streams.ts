/**
 * The concurrency scenarios with the fake model, Pulp and the WebSocket clients in three processes
 * (`bench/fake-model-child.ts`, `src/main.ts`, `bench/stream-clients.ts`), so Pulp's CPU and memory
 * are read apart from the load generators':
 *
 * - 200 streams × 200 deltas at 50/s, then 1 000 × 200 at 50/s on the same server, all sent at once;
 * - on a fresh server, 10 000 idle sockets (2 000 sessions × 5), then 200 × 200 beside them.
 *
 * `npm run bench:streams` runs them alone; `npm run bench` runs them after its other rows.
 * BENCH_CPU_PROF=<dir> runs the servers under `--cpu-prof` and leaves the profiles in <dir>.
 */
import os from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { startPulpChild, type PulpChild } from './pulp-child.js';
import { cpuMicrosOf, spawnBenchChild, type BenchChild } from './processes.js';
import { benchPrompt, pulpTurn } from './scenarios.js';
import type { StreamsResult, TimelineSlice } from './stream-clients.js';
import { freshPostgres } from './postgres.js';
import { median, ms, us } from './stats.js';

export type Row = [string, string, string];

const DELTAS = 200;
const PACE_MS = 20; // 50 deltas a second
/**
 * Runs of the 200- and 1 000-stream scenarios, whose figures are the medians of the runs. On a
 * 2-core machine shared by the server, the fake model and the clients, one run's p99s move by half
 * from run to run (where the turn starts, the turn ends and the young-generation collections fall),
 * so a single run says little; every run's p99s are printed beside the medians. A warm-up run
 * comes first: the first burst on a server grows its heap and the database's memory and compiles
 * the burst's paths. At a thousand streams its first-delta p99 was 1.3–3.1 s where later runs gave
 * 0.7–1.9 s; at two hundred, the first delta's median was 470–480 ms in the first burst and
 * 120–290 ms in the next three, and the delay p99 62–65 ms against 37–60 ms.
 */
const RUNS = 3;
const IDLE_SESSIONS = 2_000;
const IDLE_PER_SESSION = 5;
const RSS_SAMPLE_MS = 200;
/** Slices of a run's timeline (`timeline` argument). */
const TIMELINE_SLICE_MS = 250;
const MB = 1024 * 1024;

const log = (msg: string): void => void process.stderr.write(`bench:streams: ${msg}\n`);
const verdict = (ok: boolean): string => (ok ? 'met' : '**missed**');
const words = (xs: readonly string[]) => (xs.length === 0 ? ['200', '1000', 'idle'] : xs);

/** A figure for each of the three processes: the server, the fake model, the clients. */
type PerProcess = Record<'server' | 'fake' | 'clients', number>;

interface Measured {
  result: StreamsResult;
  /** CPU used during the streams, in cores. */
  cores: PerProcess;
  /** Largest resident memory of the server while the streams ran. */
  peakRssBytes: number;
  /** Server CPU time over the streams ÷ model deltas sent: what one delta costs, whatever the machine's load. */
  serverMicrosPerDelta: number;
}

/**
 * Sets up `sessions` streams on `clients`, sends them all at once, and reads every process's CPU
 * around it; with `timelineMs`, also slice by slice.
 */
async function measureStreams(pulp: PulpChild, fake: Measurable, clients: Measurable, sessions: number, timelineMs?: number): Promise<Measured> {
  clients.tell({ streams: { sessions, deltas: DELTAS, paceMs: PACE_MS } });
  await clients.next<{ ready: number }>();
  const cpu = (): PerProcess => ({ server: pulp.cpuMicros(), fake: fake.cpuMicros(), clients: clients.cpuMicros() });
  const before = cpu();
  let peakRssBytes = pulp.rssBytes();
  const sampler = setInterval(() => (peakRssBytes = Math.max(peakRssBytes, pulp.rssBytes())), RSS_SAMPLE_MS);
  const slicesCpu = [before];
  const slicer = timelineMs ? setInterval(() => slicesCpu.push(cpu()), timelineMs) : undefined;
  clients.tell({ go: timelineMs ? { timelineMs } : {} });
  const { result } = await clients.next<{ result: StreamsResult }>().finally(() => {
    clearInterval(sampler);
    clearInterval(slicer);
  });
  const after = cpu();
  if (timelineMs && result.timeline) log(timelineTable(result.timeline, slicesCpu, timelineMs));
  const cores = (k: keyof PerProcess) => (after[k] - before[k]) / 1000 / result.wallMs;
  const serverMicrosPerDelta = (after.server - before.server) / (sessions * DELTAS);
  return { result, cores: { server: cores('server'), fake: cores('fake'), clients: cores('clients') }, peakRssBytes, serverMicrosPerDelta };
}

/** Each measure's median over `runs` (the fewest completed turns, the highest peak RSS). */
function medianOf(runs: readonly Measured[]): Measured {
  const mid = (pick: (m: Measured) => number): number => median(runs.map(pick));
  const first = runs[0] as Measured;
  return {
    result: {
      completed: Math.min(...runs.map((m) => m.result.completed)),
      sessions: first.result.sessions,
      delay: { p50: mid((m) => m.result.delay.p50), p99: mid((m) => m.result.delay.p99), max: mid((m) => m.result.delay.max), count: mid((m) => m.result.delay.count) },
      first: { p50: mid((m) => m.result.first.p50), p99: mid((m) => m.result.first.p99), max: mid((m) => m.result.first.max) },
      wallMs: mid((m) => m.result.wallMs),
    },
    cores: { server: mid((m) => m.cores.server), fake: mid((m) => m.cores.fake), clients: mid((m) => m.cores.clients) },
    peakRssBytes: Math.max(...runs.map((m) => m.peakRssBytes)),
    serverMicrosPerDelta: mid((m) => m.serverMicrosPerDelta),
  };
}

function streamRows(label: string, m: Measured, delayTarget: number, stretch?: number): Row[] {
  const { result: r, cores } = m;
  const rows: Row[] = [
    [`${label}: turns completed with all their text`, `${r.completed}/${r.sessions}`, verdict(r.completed === r.sessions)],
    ['… added delivery delay p50 / p99 / max', `${ms(r.delay.p50)} / ${ms(r.delay.p99)} / ${ms(r.delay.max)}`, `p99 target ≤ ${delayTarget} ms: ${verdict(r.delay.p99 <= delayTarget)}${stretch ? ` (stretch ${stretch} ms: ${verdict(r.delay.p99 <= stretch)})` : ''}`],
    ['… message → first delta p50 / p99', `${ms(r.first.p50)} / ${ms(r.first.p99)}`, ''],
    ['… wall time; CPU of Pulp / fake model / clients; Pulp peak RSS', `${ms(r.wallMs)}; ${cores.server.toFixed(2)} / ${cores.fake.toFixed(2)} / ${cores.clients.toFixed(2)} cores; ${(m.peakRssBytes / MB).toFixed(0)} MB`, `ideal wall ≈ ${ms(DELTAS * PACE_MS)}`],
    ['… Pulp CPU per model delta (turn starts and ends included)', us(m.serverMicrosPerDelta), 'independent of the machine’s load'],
  ];
  return rows;
}

type Measurable = BenchChild & { cpuMicros(): number };

/**
 * A run slice by slice: the deltas the clients received in it with their delays, the turns whose
 * first delta and end came in it, and the cores each process used in it (read every `sliceMs`
 * from the moment the messages went). Says when the slowest deltas came: the turn starts, the turn
 * ends, or a pause in between.
 */
function timelineTable(slices: readonly TimelineSlice[], cpu: readonly PerProcess[], sliceMs: number): string {
  const cores = (i: number, k: keyof PerProcess): string => {
    const [a, b] = [cpu[i], cpu[i + 1]];
    return a && b ? ((b[k] - a[k]) / 1000 / sliceMs).toFixed(2) : '';
  };
  const lines = slices.map((x, i) =>
    [x.fromMs, x.deltas, ...(x.delay ? [x.delay.p50, x.delay.p99, x.delay.max].map((v) => v.toFixed(0)) : ['', '', '']), x.firsts, x.ends, cores(i, 'server'), cores(i, 'fake'), cores(i, 'clients')].join('\t'),
  );
  return ['timeline: from ms\tdeltas\tdelay p50\tp99\tmax\tfirst deltas\tends\tcores Pulp\tfake\tclients', ...lines].join('\n');
}

interface Started {
  pulp: PulpChild;
  clients: Measurable;
  /** The server's database, as the table names it. */
  database: string;
}

async function startServer(fakeUrl: string, databaseUrl: string | undefined): Promise<PulpChild> {
  const prof = process.env.BENCH_CPU_PROF;
  const pulp = await startPulpChild({
    ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}),
    OPENAI_BASE_URL: fakeUrl,
    OPENAI_API_KEY: 'test',
    LLM_PROVIDER: 'openai',
    OPENAI_API_MODE: 'chat_completions',
    DEFAULT_MODEL: 'gpt-4o-mini',
    WS_MAX_CONNECTIONS: String(IDLE_SESSIONS * IDLE_PER_SESSION + 2_000),
    WS_MAX_CONNECTIONS_PER_SESSION: String(IDLE_PER_SESSION),
    ...(prof ? { NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${prof}` } : {}),
  });
  await pulpTurn(pulp, benchPrompt(50)); // warm-up: first queries, the model client's first use
  return pulp;
}

/**
 * The server's resident memory once it stops falling. A fresh server gives back several hundred
 * megabytes of its start (the embedded database's set-up) in its first second or so, later on a
 * slower machine: a baseline read before that made the idle sockets' growth come out negative.
 */
async function settledRss(pulp: PulpChild): Promise<number> {
  const samples = [pulp.rssBytes()];
  // Three readings a quarter second apart within 2 MB of each other, or the last after 10 s.
  while (samples.length < 40) {
    await sleep(250);
    samples.push(pulp.rssBytes());
    const recent = samples.slice(-3);
    if (recent.length === 3 && Math.max(...recent) - Math.min(...recent) < 2 * MB) break;
  }
  return samples.at(-1) ?? 0;
}

/** A warm-up run, then `RUNS` measured ones of `sessions` streams: their medians, and a row of each run's p99s. */
async function warmedRuns(pulp: PulpChild, fake: Measurable, clients: Measurable, sessions: number, timelineMs?: number): Promise<{ m: Measured; perRun: Row }> {
  const label = `${sessions.toLocaleString('en').replace(',', ' ')} streams × ${DELTAS} deltas at 50/s`;
  log(`${label}, warm-up run`);
  const warmUp = await measureStreams(pulp, fake, clients, sessions);
  const runs: Measured[] = [];
  for (let run = 1; run <= RUNS; run++) {
    log(`${label}, run ${run} of ${RUNS}`);
    runs.push(await measureStreams(pulp, fake, clients, sessions, timelineMs));
  }
  return {
    m: medianOf(runs),
    perRun: [
      '… each run: delay p99; first delta p99',
      `${runs.map((r) => ms(r.result.delay.p99)).join(' / ')}; ${runs.map((r) => ms(r.result.first.p99)).join(' / ')}`,
      `the medians above are of these; the warm-up run before them: ${ms(warmUp.result.delay.p99)}; ${ms(warmUp.result.first.p99)}, ${warmUp.result.completed}/${sessions} completed`,
    ],
  };
}

function withCpu(child: BenchChild): Measurable {
  return Object.assign(child, { cpuMicros: () => cpuMicrosOf(child.pid) });
}

/** Runs `body` on a fresh server: on PGlite, or on a fresh PostgreSQL database (PGlite when none answers). */
async function onServer<T>(fakeUrl: string, pglite: boolean, body: (s: Started) => Promise<T>): Promise<T> {
  const db = pglite ? undefined : await freshPostgres(log);
  const pulp = await startServer(fakeUrl, db?.url).catch(async (err: unknown) => {
    await db?.drop();
    throw err;
  });
  try {
    const clients = withCpu(spawnBenchChild('stream-clients.ts', [pulp.baseUrl]));
    try {
      return await body({ pulp, clients, database: db ? 'PostgreSQL' : 'PGlite' });
    } finally {
      await clients.stop();
    }
  } finally {
    await pulp.stop();
    await db?.drop();
  }
}

/**
 * Every concurrency scenario; `only` picks some ('200', '1000', 'idle'). The server runs on PGlite
 * (the default database), or on a fresh PostgreSQL database when `only` has 'postgres'; with
 * 'timeline', each measured run is also printed slice by slice (stderr).
 */
export async function streamScenarios(args: readonly string[] = []): Promise<Row[]> {
  const pglite = !args.includes('postgres');
  const timelineMs = args.includes('timeline') ? TIMELINE_SLICE_MS : undefined;
  const picked = args.filter((a) => a !== 'postgres' && a !== 'pglite' && a !== 'timeline');
  const only = words(picked);
  const fake = withCpu(spawnBenchChild('fake-model-child.ts'));
  const rows: Row[] = [];
  try {
    const { baseUrl: fakeUrl } = await fake.next<{ baseUrl: string }>();
    if (only.includes('200') || only.includes('1000')) {
      await onServer(fakeUrl, pglite, async ({ pulp, clients, database }) => {
        rows.push(['concurrency scenarios below: database of the server', database, '']);
        if (only.includes('200')) {
          const { m, perRun } = await warmedRuns(pulp, fake, clients, 200, timelineMs);
          rows.push(...streamRows(`200 streams × ${DELTAS} deltas at 50/s, all sent at once (fake model, Pulp, clients: 3 processes; medians of ${RUNS} runs)`, m, 50), perRun);
        }
        if (only.includes('1000')) {
          const { m, perRun } = await warmedRuns(pulp, fake, clients, 1_000, timelineMs);
          rows.push(...streamRows(`1 000 streams × ${DELTAS} deltas at 50/s, all sent at once (medians of ${RUNS} runs)`, m, 250, 150));
          rows.push(['… p99 message → first delta', ms(m.result.first.p99), `target ≤ 2 000 ms: ${verdict(m.result.first.p99 <= 2_000)}`], perRun);
        }
      });
    }
    if (only.includes('idle')) {
      await onServer(fakeUrl, pglite, async ({ pulp, clients }) => {
        const idle = IDLE_SESSIONS * IDLE_PER_SESSION;
        log(`${idle} idle sockets (${IDLE_SESSIONS} sessions × ${IDLE_PER_SESSION}), then 200 streams beside them`);
        const rssBefore = await settledRss(pulp);
        clients.tell({ idle: { sessions: IDLE_SESSIONS, perSession: IDLE_PER_SESSION } });
        const { idleOpen } = await clients.next<{ idleOpen: number }>();
        const grown = pulp.rssBytes() - rssBefore;
        rows.push([`${idle} idle sockets: open; Pulp RSS growth`, `${idleOpen}; ${(grown / MB).toFixed(0)} MB (${((grown / idle) / 1024).toFixed(1)} KB a socket)`, `≤ 600 MB: ${verdict(idleOpen === idle && grown <= 600 * MB)}`]);
        // Warmed up and measured as the 200-stream scenario is, so that the two compare.
        const { m, perRun } = await warmedRuns(pulp, fake, clients, 200, timelineMs);
        rows.push(...streamRows(`200 streams × ${DELTAS} deltas beside ${idle} idle sockets (medians of ${RUNS} runs)`, m, 50), perRun);
      });
    }
  } finally {
    await fake.stop();
  }
  return rows;
}

/** The table's heading: when, which Node.js, how loaded the machine was. */
export function heading(title: string, tookS: number): string {
  const load = os.loadavg().map((l) => l.toFixed(1)).join(' / ');
  return `${title} — ${new Date().toISOString()}, node ${process.version}, ${os.cpus().length} cores, load average (1 / 5 / 15 min) ${load} at the end; run took ${tookS.toFixed(0)} s`;
}

export function table(rows: Row[]): string {
  return ['| measure | value | ratio / target |', '|---|---|---|', ...rows.map((r) => `| ${r.join(' | ')} |`), ''].join('\n');
}
