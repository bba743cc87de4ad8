/**
 * The chaos part of `npm run bench:cluster`: the failover run of test/cluster/chaos.ts (compiled
 * servers on one PostgreSQL, chats of paced turns, a random server SIGKILLed and replaced every
 * 10 s), at the size of the test (3 servers, 30 chats) and at 10 servers / 200 chats, each on a
 * fresh database. Returns the markdown table.
 */
import { buildAll } from '../scripts/build.mjs';
import { chaosFigures, chaosScript, runChaos } from '../test/cluster/chaos.js';
import { clusterEnv } from '../test/cluster/support.js';
import { startFakeOpenAI } from '../test/support/fake-openai.js';

/** The test's turn: 60 deltas 25 ms apart (1.5 s of streaming). */
const DELTAS = 60;
const PACE_MS = 25;
const DURATION_MS = 60_000;
const KILL_EVERY_MS = 10_000;
const SIZES = [
  { servers: 3, chats: 30, poolMax: 5 },
  // 10 × (3 + 3) = 60 connections (70 while a killed server's replacement starts): PostgreSQL's
  // default max_connections (100) keeps room for the other clients of a shared machine.
  { servers: 10, chats: 200, poolMax: 3 },
];
/** The recovery target: kill → next turn done p99 within the turn time + this. */
const RECOVERY_BUDGET_MS = 2_000;

export async function chaosTable(log: (message: string) => void): Promise<string> {
  await buildAll({ only: 'server' });
  const rows: string[] = [];
  for (const size of SIZES) {
    const fake = await startFakeOpenAI();
    fake.setHandler(chaosScript(DELTAS, PACE_MS));
    const cluster = await clusterEnv(fake);
    try {
      log(`chaos: ${size.servers} servers, ${size.chats} chats`);
      const report = await runChaos({
        servers: size.servers,
        chats: size.chats,
        durationMs: DURATION_MS,
        killEveryMs: KILL_EVERY_MS,
        deltas: DELTAS,
        paceMs: PACE_MS,
        env: { ...cluster.env, DB_POOL_MAX: String(size.poolMax), WS_MAX_CONNECTIONS: '2000' },
        url: cluster.url,
        log: (m) => log(`chaos: ${m}`),
      });
      const f = chaosFigures(report);
      log(`chaos: ${JSON.stringify(f)}`);
      const verdict = (turn: number) => (f.recovery.p99 <= turn + RECOVERY_BUDGET_MS ? 'met' : '**missed**');
      rows.push(
        [
          `${f.servers} servers, ${f.chats} chats`,
          `${f.kills}`,
          `${f.turns}`,
          `${f.unasked}`,
          `${f.lost} / ${f.duplicated} of ${f.acknowledged}`,
          `${f.unended} / ${f.streaming} / ${f.usable}`,
          Object.keys(f.errors).length === 0 ? '0' : JSON.stringify(f.errors),
          `${f.turn.p50} / ${f.turn.p99} ms`,
          `${f.recovery.p50} / ${f.recovery.p99} ms (n ${f.recovery.n})`,
          `${f.recoveryStart.startedP50} / ${f.recoveryStart.startedP99} ms`,
          `${verdict(f.turn.p50)} / ${verdict(f.turn.p99)}`,
        ].join(' | '),
      );
    } finally {
      await cluster.cleanup();
      await fake.close();
    }
  }
  return [
    `Chaos: a random server SIGKILLed and replaced every ${KILL_EVERY_MS / 1000} s for ${DURATION_MS / 1000} s; each turn streams ${DELTAS} deltas ${PACE_MS} ms apart; clients of a killed server reconnect to a random live one and go on.`,
    '',
    '| run | kills | turns ended | ended `interrupted` unasked | acknowledged messages lost / doubled | turns unended / rows streaming / chats usable after | turns ended `error` | turn time p50 / p99 | kill → next turn done p50 / p99 | kill → next `assistant_start` p50 / p99 | recovery p99 ≤ turn time p50 + 2 s / ≤ turn time p99 + 2 s |',
    '|---|---|---|---|---|---|---|---|---|---|---|',
    ...rows.map((r) => `| ${r} |`),
    '',
  ].join('\n');
}
