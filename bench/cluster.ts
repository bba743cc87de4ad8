/**
 * `npm run bench:cluster`: delivery delay through a second server (fan-out via PostgreSQL
 * LISTEN/NOTIFY), side by side with one server, in one run on one fresh PostgreSQL database.
 * Each session's turn runs on server A; in the two-server case its client listens on server B
 * (and on A, to time the hop A → B). Then failover under load (bench/cluster-chaos.ts) at 3
 * servers / 30 chats and 10 servers / 200 chats. Prints markdown tables and writes
 * bench/cluster-results.md. `-- --chaos` runs the failover part alone.
 */
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import type WebSocket from 'ws';
import { startFakeOpenAI } from '../test/support/fake-openai.js';
import { fakeModelEnv } from '../test/support/pulp-process.js';
import { chaosTable } from './cluster-chaos.js';
import { startPulpChild, type PulpChild } from './pulp-child.js';
import { benchPrompt, benchScript, concurrentTurns, STAMP } from './scenarios.js';
import { benchClock, median, ms, percentile } from './stats.js';

const DELTAS = 200;
const PACE_MS = 20;
const LOADS = [50, 200];
const PG_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const log = (msg: string): void => void process.stderr.write(`bench:cluster: ${msg}\n`);

/** Frames of one turn on `ws`: stamp → receive time; resolves at assistant_end. */
function listen(ws: WebSocket): Promise<{ stamps: Map<string, number>; finish: string }> {
  return new Promise((resolve, reject) => {
    const stamps = new Map<string, number>();
    const onMessage = (data: WebSocket.RawData): void => {
      const at = benchClock();
      const event = JSON.parse((data as Buffer).toString('utf8')) as { type: string; content?: string; finish_reason?: string };
      if (event.type === 'assistant_delta') for (const m of (event.content ?? '').matchAll(STAMP)) stamps.set(m[1]!, at);
      else if (event.type === 'assistant_end') {
        ws.off('message', onMessage);
        resolve({ stamps, finish: event.finish_reason ?? '' });
      }
    };
    ws.on('message', onMessage);
    ws.once('close', () => reject(new Error('socket closed during a turn')));
  });
}

interface TwoServerResult {
  completed: number;
  /** Receive time on B − model send time. */
  delays: number[];
  /** Receive time on B − receive time on A, per delta. */
  hops: number[];
}

async function throughSecond(a: PulpChild, b: PulpChild, sessions: number): Promise<TwoServerResult> {
  const pairs: Array<{ onA: WebSocket; onB: WebSocket }> = [];
  try {
    for (let i = 0; i < sessions; i++) {
      const id = await a.createSession();
      pairs.push({ onA: await a.connect(id), onB: await b.connect(id) });
    }
    const results = await Promise.all(
      pairs.map(async ({ onA, onB }) => {
        const seenA = listen(onA);
        const seenB = listen(onB);
        onA.send(JSON.stringify({ type: 'message', messages: [{ content: benchPrompt(DELTAS, PACE_MS, 'stamped') }] }));
        return Promise.all([seenA, seenB]);
      }),
    );
    const delays: number[] = [];
    const hops: number[] = [];
    let completed = 0;
    for (const [onA, onB] of results) {
      for (const [stamp, at] of onB.stamps) {
        delays.push(at - Number(stamp));
        const atA = onA.stamps.get(stamp);
        if (atA !== undefined) hops.push(at - atA);
      }
      if (onB.finish === 'stop' && onB.stamps.size === DELTAS) completed++;
    }
    return { completed, delays, hops };
  } finally {
    for (const p of pairs) {
      p.onA.close();
      p.onB.close();
    }
  }
}

/** The delivery-delay table (two servers, 50 and 200 streams). */
async function deliveryTable(): Promise<string> {
  const name = `pulp_bench_${randomBytes(4).toString('hex')}`;
  const admin = async (sql: string) => {
    const c = new pg.Client({ connectionString: PG_URL });
    await c.connect();
    try {
      await c.query(sql);
    } finally {
      await c.end();
    }
  };
  await admin(`CREATE DATABASE ${name}`);
  const url = new URL(PG_URL);
  url.pathname = `/${name}`;
  const fake = await startFakeOpenAI();
  fake.setHandler(benchScript);
  const env = { ...fakeModelEnv(fake.baseUrl), DATABASE_URL: url.toString() };
  const rows: string[][] = [];
  let a: PulpChild | undefined;
  let b: PulpChild | undefined;
  try {
    a = await startPulpChild(env);
    b = await startPulpChild(env);
    await concurrentTurns(a, 5, 20, 0); // warm-up
    await throughSecond(a, b, 5);
    const servers = [a, b];
    /** Cores each server used while `fn` ran. */
    const cores = async <T>(fn: () => Promise<T>): Promise<[T, string]> => {
      const before = servers.map((s) => s.cpuMicros());
      const start = performance.now();
      const value = await fn();
      const wall = (performance.now() - start) * 1000;
      return [value, servers.map((s, i) => ((s.cpuMicros() - before[i]!) / wall).toFixed(2)).join(' / ')];
    };
    for (const load of LOADS) {
      log(`${load} sessions on one server`);
      const [one, oneCores] = await cores(() => concurrentTurns(a!, load, DELTAS, PACE_MS));
      log(`${load} sessions through a second server`);
      const [two, twoCores] = await cores(() => throughSecond(a!, b!, load));
      const p99One = percentile(one.delays, 99);
      const p99Two = percentile(two.delays, 99);
      rows.push(
        [`${load} streams, client on the server that runs the turn`, `${one.completed}/${load}`, `${ms(median(one.delays))} / ${ms(p99One)}`, `cores used by A / B (whole phase, incl. connecting): ${oneCores}`],
        [
          `${load} streams, client on a second server (LISTEN/NOTIFY)`,
          `${two.completed}/${load}`,
          `${ms(median(two.delays))} / ${ms(p99Two)}`,
          `cores used by A / B (whole phase, incl. connecting): ${twoCores}; hop A→B p50 / p99 ${ms(median(two.hops))} / ${ms(percentile(two.hops, 99))}${load === 200 ? `; p99 target ≤ 100 ms: ${p99Two <= 100 ? 'met' : '**missed**'}` : ''}`,
        ],
      );
    }
  } finally {
    await a?.stop();
    await b?.stop();
    await fake.close();
    await admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  }
  return [
    `Delivery: ${DELTAS} stamped deltas per stream at ${1000 / PACE_MS}/s.`,
    '',
    '| scenario | turns complete | added delivery delay p50 / p99 | notes |',
    '|---|---|---|---|',
    ...rows.map((r) => `| ${r.join(' | ')} |`),
    '',
  ].join('\n');
}

async function main(): Promise<void> {
  const began = performance.now();
  const chaosOnly = process.argv.includes('--chaos');
  const delivery = chaosOnly ? '' : await deliveryTable();
  const chaos = await chaosTable(log);
  const table = [
    `Pulp cluster benchmark — ${new Date().toISOString()}, node ${process.version}; run took ${((performance.now() - began) / 1000).toFixed(0)} s`,
    '',
    ...(delivery ? [delivery] : []),
    chaos,
  ].join('\n');
  process.stdout.write(table);
  writeFileSync(path.join(import.meta.dirname, 'cluster-results.md'), table);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
