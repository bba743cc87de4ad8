/**
 * Failover under load, in the suite: 3 compiled servers on one real PostgreSQL, 30 chats of paced
 * turns, a random server SIGKILLed and replaced every 10 s for 60 s, clients reconnecting to a
 * random live server. Nothing acknowledged is lost or doubled, every turn ends, nothing is left
 * streaming, every chat goes on, no turn ends `interrupted` unasked, and a cut chat's next turn is
 * done within the turn time of this same run plus 2 s.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { percentile } from '../../bench/stats.js';
import { TEST_DATABASE_URL } from '../support/database.js';
import { startFakeOpenAI, type FakeOpenAI } from '../support/fake-openai.js';
import { chaosFigures, chaosScript, runChaos, type ChaosReport } from './chaos.js';
import { clusterEnv, type ClusterEnv } from './support.js';

if (!TEST_DATABASE_URL) console.log('test/cluster/chaos: skipped — the chaos test needs PostgreSQL (set TEST_DATABASE_URL)');

/** How much longer than an ordinary turn a cut chat may take to complete its next turn. */
const RECOVERY_BUDGET_MS = 2_000;

describe.skipIf(!TEST_DATABASE_URL)('failover under load: 3 servers, 30 chats, a SIGKILL every 10 s', () => {
  let fake: FakeOpenAI;
  let cluster: ClusterEnv;
  let report: ChaosReport;

  beforeAll(async () => {
    fake = await startFakeOpenAI();
    fake.setHandler(chaosScript(60, 25));
    cluster = await clusterEnv(fake);
    report = await runChaos({
      servers: 3,
      chats: 30,
      durationMs: 60_000,
      killEveryMs: 10_000,
      deltas: 60,
      paceMs: 25,
      env: { ...cluster.env, DB_POOL_MAX: '5' },
      url: cluster.url,
      log: (message) => console.log(`chaos: ${message}`),
    });
    console.log(`chaos: ${JSON.stringify(chaosFigures(report))}`);
  }, 180_000);

  afterAll(async () => {
    await cluster?.cleanup();
    await fake?.close();
  });

  it('keeps every acknowledged message exactly once, ends every turn and leaves nothing streaming', () => {
    expect(report.kills).toBeGreaterThanOrEqual(5);
    expect(report.acknowledged).toBeGreaterThan(report.chats * 10);
    expect(report.lost).toEqual([]);
    expect(report.duplicated).toEqual([]);
    expect(report.unended).toBe(0);
    expect(report.streaming).toBe(0);
  });

  it('ends no turn interrupted unless asked, and every chat takes a new turn afterwards', () => {
    expect(report.unaskedInterrupts).toEqual([]);
    expect(report.errors).toEqual({});
    expect(report.usableAfterwards).toBe(report.chats);
  });

  it("completes a cut chat's next turn within the turn time + 2 s (p99)", () => {
    expect(report.unrecovered).toBe(0);
    expect(report.recoveryMs.length).toBeGreaterThanOrEqual(report.kills);
    expect(percentile(report.recoveryMs, 99)).toBeLessThanOrEqual(percentile(report.turnMs, 99) + RECOVERY_BUDGET_MS);
  });
});
