/**
 * `npm run bench`: Pulp's streaming overhead against the fake model, side by side in one run.
 * Prints a markdown table and writes it to bench/results.md. See bench/README.md for the method.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { startFakeOpenAI, type FakeOpenAI } from '../test/support/fake-openai.js';
import { fakeModelEnv } from '../test/support/pulp-process.js';
import { freshPostgres } from './postgres.js';
import { startPulpChild, type PulpChild } from './pulp-child.js';
import { benchPrompt, benchScript, concurrentTurns, nativeFloor, pulpTurn, rawRead, sdkFloor, usageOverhead, type Timing, type UsageOverhead } from './scenarios.js';
import { median, ms, percentile, ratio, us } from './stats.js';

const REPS = 5;
const TTFT_REPS = 9;
/** Alternating plain and metered runs for the usage-accounting overhead. */
const USAGE_REPS = 101;
const DELTAS = 10_000;
const CONCURRENT_SESSIONS = 200;
const CONCURRENT_DELTAS = 200;
const CONCURRENT_PACE_MS = 20; // 50 deltas a second

/** CPU time (user + system) of this process since `before`, in microseconds. */
const cpuSince = (before: NodeJS.CpuUsage): number => {
  const d = process.cpuUsage(before);
  return d.user + d.system;
};

const log = (msg: string): void => void process.stderr.write(`bench: ${msg}\n`);

async function repeat(n: number, fn: () => Promise<Timing>): Promise<Timing[]> {
  const out: Timing[] = [];
  for (let i = 0; i < n; i++) out.push(await fn());
  return out;
}

function pulpEnv(fake: FakeOpenAI): Record<string, string> {
  return fakeModelEnv(fake.baseUrl);
}

/** Median (message sent → first assistant_delta) over short turns. */
async function pulpFirstDelta(pulp: PulpChild): Promise<number> {
  await pulpTurn(pulp, benchPrompt(5)); // warm-up: first queries, first model client use
  const firsts: number[] = [];
  for (let i = 0; i < TTFT_REPS; i++) firsts.push((await pulpTurn(pulp, benchPrompt(5))).firstMs);
  return median(firsts);
}

/** The usage-accounting rows: first delta and end of run, without and with the budget check and ledger write. */
function usageRows(usage: UsageOverhead | undefined, verdict: (ok: boolean) => string): Array<[string, string, string]> {
  if (!usage) return [['usage accounting overhead, PostgreSQL', 'not measured', 'no server reachable']];
  const addedFirst = usage.firstMs.metered - usage.firstMs.plain;
  const addedEnd = usage.endMs.metered - usage.endMs.plain;
  return [
    ['first delta without / with budget check + ledger (native Runner, PostgreSQL)', `${ms(usage.firstMs.plain)} / ${ms(usage.firstMs.metered)}`, `added ${ms(addedFirst)}, target ≤ 2 ms: ${verdict(addedFirst <= 2)}`],
    ['… median of the paired differences (metered − plain, each alternated pair)', ms(usage.pairedMs.first), `target ≤ 2 ms: ${verdict(usage.pairedMs.first <= 2)}`],
    ['… end of run without / with (includes the ledger write)', `${ms(usage.endMs.plain)} / ${ms(usage.endMs.metered)}`, `added ${ms(addedEnd)} (paired ${ms(usage.pairedMs.end)}); ${usage.rows} ledger rows`],
  ];
}

async function main(): Promise<void> {
  const began = performance.now();
  const fake = await startFakeOpenAI();
  fake.setHandler(benchScript);
  const rows: Array<[string, string, string]> = [];
  try {
    log(`raw read, SDK floor and native-adapter floor, ${DELTAS} deltas × ${REPS}`);
    const floor = sdkFloor(fake);
    const native = nativeFloor(fake);
    await rawRead(fake, DELTAS); // warm-up
    await floor(DELTAS);
    await native(DELTAS);
    const raw: Timing[] = [];
    const sdk: Timing[] = [];
    const nat: Timing[] = [];
    const rawCpu: number[] = [];
    const sdkCpu: number[] = [];
    const nativeCpu: number[] = [];
    for (let i = 0; i < REPS; i++) {
      let before = process.cpuUsage();
      raw.push(await rawRead(fake, DELTAS));
      rawCpu.push(cpuSince(before) / DELTAS);
      before = process.cpuUsage();
      sdk.push(await floor(DELTAS));
      sdkCpu.push(cpuSince(before) / DELTAS);
      before = process.cpuUsage();
      nat.push(await native(DELTAS));
      nativeCpu.push(cpuSince(before) / DELTAS);
    }
    const rawMs = median(raw.map((t) => t.lastMs));
    const floorMs = median(sdk.map((t) => t.lastMs));
    const nativeMs = median(nat.map((t) => t.lastMs));
    // The Runner and its model adapter alone: the fake server's and the socket's share is what the raw read costs.
    const sdkAlone = median(sdkCpu) - median(rawCpu);
    const nativeAlone = median(nativeCpu) - median(rawCpu);
    const floorFirstShort = median((await repeat(TTFT_REPS, () => floor(5))).map((t) => t.firstMs));

    log('Pulp child process on PGlite');
    const pulp = await startPulpChild(pulpEnv(fake));
    let passMs: number;
    let cpuPerDelta: number;
    let ttftPglite: number;
    let concurrent: Awaited<ReturnType<typeof concurrentTurns>>;
    let concurrentLoad: { server: number; bench: number };
    try {
      await pulpTurn(pulp, benchPrompt(DELTAS)); // warm-up (JIT, first inserts)
      const pass: number[] = [];
      const cpu: number[] = [];
      for (let i = 0; i < REPS; i++) {
        const before = pulp.cpuMicros();
        const turn = await pulpTurn(pulp, benchPrompt(DELTAS));
        cpu.push((pulp.cpuMicros() - before) / DELTAS);
        if (turn.finishReason !== 'stop' || turn.text.length !== Array.from({ length: DELTAS }, (_, j) => `w${j} `).join('').length) {
          throw new Error(`pass-through turn ended ${turn.finishReason} with ${turn.text.length} characters`);
        }
        pass.push(turn.lastMs);
      }
      passMs = median(pass);
      cpuPerDelta = median(cpu);
      log('time to first token on PGlite');
      ttftPglite = await pulpFirstDelta(pulp);
      log(`${CONCURRENT_SESSIONS} concurrent sessions × ${CONCURRENT_DELTAS} deltas at ${1000 / CONCURRENT_PACE_MS}/s`);
      const serverBefore = pulp.cpuMicros();
      const benchBefore = process.cpuUsage();
      concurrent = await concurrentTurns(pulp, CONCURRENT_SESSIONS, CONCURRENT_DELTAS, CONCURRENT_PACE_MS);
      concurrentLoad = {
        server: (pulp.cpuMicros() - serverBefore) / 1000 / concurrent.wallMs,
        bench: cpuSince(benchBefore) / 1000 / concurrent.wallMs,
      };
    } finally {
      await pulp.stop();
    }

    let ttftPostgres: number | undefined;
    let usage: UsageOverhead | undefined;
    const usageDb = await freshPostgres(log);
    if (usageDb) {
      log(`usage accounting on PostgreSQL: ${USAGE_REPS} plain and ${USAGE_REPS} metered runs, alternated`);
      try {
        usage = await usageOverhead(fake, usageDb.url, USAGE_REPS);
      } finally {
        await usageDb.drop();
      }
    }
    const pgdb = await freshPostgres(log);
    if (pgdb) {
      log('time to first token on PostgreSQL');
      const pulpPg = await startPulpChild({ ...pulpEnv(fake), DATABASE_URL: pgdb.url });
      try {
        ttftPostgres = await pulpFirstDelta(pulpPg);
      } finally {
        await pulpPg.stop();
        await pgdb.drop();
      }
    }

    const p99 = percentile(concurrent.delays, 99);
    const verdict = (ok: boolean): string => (ok ? 'met' : '**missed**');
    rows.push(
      [`raw read: fetch consumes the SSE of ${DELTAS} deltas`, ms(rawMs), ''],
      [`floor: @openai/agents Runner.run stream, ${DELTAS} deltas`, ms(floorMs), `${ratio(floorMs / rawMs)} raw`],
      [`pass-through: message sent → last delta on the WebSocket`, ms(passMs), `${ratio(passMs / floorMs)} floor (target ≤ 1.25×: ${verdict(passMs / floorMs <= 1.25)})`],
      ['server CPU per delivered delta (child process, /proc stat)', us(cpuPerDelta), `target ≤ 50 µs: ${verdict(cpuPerDelta <= 50)}`],
      ['… for comparison, bench-process CPU per delta: fake + raw read / fake + SDK floor', `${us(median(rawCpu))} / ${us(median(sdkCpu))}`, `SDK alone ≈ ${us(sdkAlone)}`],
      [`floor with Pulp's native adapter: Runner.run stream, ${DELTAS} deltas`, ms(nativeMs), `${ratio(nativeMs / rawMs)} raw, ${ratio(nativeMs / floorMs)} SDK floor`],
      ['… Runner + model adapter CPU per delta (bench process minus fake + raw read): native / SDK', `${us(nativeAlone)} / ${us(sdkAlone)}`, `native ${ratio(nativeAlone / sdkAlone)} SDK`],
      ['floor: first delta (5-delta turn)', ms(floorFirstShort), ''],
      ['added time to first token, PGlite', ms(ttftPglite - floorFirstShort), `target ≤ 15 ms: ${verdict(ttftPglite - floorFirstShort <= 15)}`],
      [
        'added time to first token, PostgreSQL',
        ttftPostgres === undefined ? 'not measured' : ms(ttftPostgres - floorFirstShort),
        ttftPostgres === undefined ? 'no server reachable' : `target ≤ 15 ms: ${verdict(ttftPostgres - floorFirstShort <= 15)}`,
      ],
      ...usageRows(usage, verdict),
      [`${CONCURRENT_SESSIONS} sessions × ${CONCURRENT_DELTAS} deltas at 50/s: turns completed`, `${concurrent.completed}/${CONCURRENT_SESSIONS}`, verdict(concurrent.completed === CONCURRENT_SESSIONS)],
      ['… wall time; CPU use of Pulp / of the bench process (fake model + 200 clients)', `${ms(concurrent.wallMs)}; ${concurrentLoad.server.toFixed(2)} / ${concurrentLoad.bench.toFixed(2)} cores`, `ideal wall ≈ ${ms(CONCURRENT_DELTAS * CONCURRENT_PACE_MS)}`],
      ['… added delivery delay p50 / p99 / max', `${ms(percentile(concurrent.delays, 50))} / ${ms(p99)} / ${ms(Math.max(...concurrent.delays))}`, `p99 target ≤ 50 ms: ${verdict(p99 <= 50)}`],
    );
  } finally {
    await fake.close();
  }
  const table = [
    `Pulp benchmark — ${new Date().toISOString()}, node ${process.version}, medians of ${REPS} runs (first-token: ${TTFT_REPS}); run took ${((performance.now() - began) / 1000).toFixed(0)} s`,
    '',
    '| measure | value | ratio / target |',
    '|---|---|---|',
    ...rows.map((r) => `| ${r.join(' | ')} |`),
    '',
  ].join('\n');
  process.stdout.write(table);
  writeFileSync(path.join(import.meta.dirname, 'results.md'), table);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
