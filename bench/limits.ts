/**
 * `npm run bench:limits`: what the per-user limits add before a turn starts and to a REST write —
 * `UserLimits.admitMessage` (this server's running turns, the cluster's open `chat_turns` rows, one
 * upsert of the message counter) and `admitWrite` (one upsert) — on PostgreSQL and in memory.
 * Prints a markdown table of medians and 99th percentiles.
 */
import pino from 'pino';
import { openTurnSessionsOf } from '../src/cluster/user-turns.js';
import { createPostgresDatabase } from '../src/db/postgres-driver.js';
import { migrate } from '../src/db/migrate.js';
import { RateLimitStore } from '../src/limits/rate-limits.js';
import { UserLimits } from '../src/limits/user-limits.js';
import { createEmptyPostgresDatabase } from '../test/support/database.js';
import { median, percentile } from './stats.js';

const CALLS = 2_000;
const WARM_UP = 100;
const USERS = 50;
const SETTINGS = { maxConcurrentTurns: 1_000, messagesPerMin: 1_000_000, writesPerMin: 1_000_000 };

async function time(fn: (i: number) => Promise<void>): Promise<{ p50: number; p99: number }> {
  for (let i = 0; i < WARM_UP; i++) await fn(i);
  const took: number[] = [];
  for (let i = 0; i < CALLS; i++) {
    const start = performance.now();
    await fn(i);
    took.push(performance.now() - start);
  }
  return { p50: median(took), p99: percentile(took, 99) };
}

const fmt = (t: { p50: number; p99: number }) => `${t.p50.toFixed(3)} ms | ${t.p99.toFixed(3)} ms`;

async function main(): Promise<void> {
  const created = await createEmptyPostgresDatabase();
  const db = createPostgresDatabase({ url: created.url, poolMax: 10, statementTimeoutMs: 30_000, logger: pino({ level: 'silent' }) });
  const rows: string[] = [];
  try {
    await migrate(db);
    const userIds: string[] = [];
    for (let i = 0; i < USERS; i++) {
      const { rows: made } = await db.query<{ id: string }>(`INSERT INTO users (email, password_hash) VALUES ($1, 'x') RETURNING id`, [`bench${i}@example.com`]);
      userIds.push(made[0]!.id);
    }
    const user = (i: number) => userIds[i % USERS]!;
    const shared = new RateLimitStore({ db });
    const memory = new RateLimitStore({ db: undefined });
    const inCluster = new UserLimits({ store: shared, settings: SETTINGS, runningSessions: (u) => openTurnSessionsOf(db, u) });
    const alone = new UserLimits({ store: memory, settings: SETTINGS, runningSessions: async () => [] });
    rows.push(`| message admitted, PostgreSQL cluster (turn count + counter upsert) | ${fmt(await time((i) => inCluster.admitMessage(user(i), 'session')))} |`);
    rows.push(`| REST write admitted, PostgreSQL (counter upsert) | ${fmt(await time((i) => inCluster.admitWrite(user(i))))} |`);
    rows.push(`| message admitted, one server in memory | ${fmt(await time((i) => alone.admitMessage(user(i), 'session')))} |`);
    shared.close();
    memory.close();
  } finally {
    await db.close();
    await created.drop();
  }
  const table = ['| check | median | p99 |', '|---|---|---|', ...rows].join('\n');
  process.stdout.write(`${table}\n\n${CALLS} calls after ${WARM_UP} warm-up calls, ${USERS} users, Node ${process.version}\n`);
}

await main();
