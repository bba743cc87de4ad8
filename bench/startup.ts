/**
 * Startup and idle memory of the compiled server (`node dist/main.js`, what `npm start` runs):
 * time from spawning the process to the first 200 of /api/v1/health/ready, then the resident
 * memory (RSS) once the server has been idle for a moment. Embedded database (a fresh DATA_DIR
 * per run, and a second start on the same DATA_DIR) and, when BENCH_DATABASE_URL or
 * TEST_DATABASE_URL is set, PostgreSQL.
 *
 *   npm run build && node --import tsx bench/startup.ts [runs=5]
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import pg from 'pg';
import { median } from './stats.js';

const ROOT = path.resolve(import.meta.dirname, '..');
const RUNS = Number(process.argv[2] ?? 5);
const SETTLE_MS = 2_000;

interface Start {
  readyMs: number;
  rssMb: number;
}

function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN);
  return kb / 1024;
}

async function startOnce(env: Record<string, string>): Promise<Start> {
  const port = 20_000 + Math.floor(Math.random() * 20_000);
  const started = performance.now();
  const child = spawn(process.execPath, ['--enable-source-maps', 'dist/main.js'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', LOG_LEVEL: 'warn', PORT: String(port), ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const exited = once(child, 'exit');
  try {
    let readyMs = NaN;
    for (;;) {
      try {
        const res = await fetch(`http://127.0.0.1:${port}/api/v1/health/ready`);
        if (res.status === 200) {
          readyMs = performance.now() - started;
          break;
        }
      } catch {
        // not listening yet
      }
      if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}`);
      await delay(5);
    }
    await delay(SETTLE_MS);
    return { readyMs, rssMb: rssMb(child.pid!) };
  } finally {
    child.kill('SIGTERM');
    await exited;
  }
}

async function scenario(name: string, envFor: (run: number) => Record<string, string>, cleanup: () => Promise<void> = async () => {}) {
  const starts: Start[] = [];
  for (let run = 0; run < RUNS; run++) starts.push(await startOnce(envFor(run)));
  await cleanup();
  const ready = median(starts.map((s) => s.readyMs));
  const rss = median(starts.map((s) => s.rssMb));
  console.log(`| ${name} | ${ready.toFixed(0)} ms | ${rss.toFixed(0)} MB | ${starts.map((s) => s.readyMs.toFixed(0)).join(', ')} |`);
}

async function main(): Promise<void> {
  console.log(`| database | ready after start (median of ${RUNS}) | RSS idle | every run (ms) |`);
  console.log('|---|---|---|---|');
  const dirs: string[] = [];
  await scenario(
    'embedded, fresh DATA_DIR',
    () => {
      const dir = mkdtempSync(path.join(tmpdir(), 'pulp-startup-'));
      dirs.push(dir);
      return { DATA_DIR: dir };
    },
  );
  await scenario('embedded, existing DATA_DIR', (run) => ({ DATA_DIR: dirs[run]! }), () => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
    return Promise.resolve();
  });
  const url = process.env.BENCH_DATABASE_URL ?? process.env.TEST_DATABASE_URL;
  if (url) {
    const name = `pulp_bench_startup_${process.pid}`;
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${name}`);
    const dbUrl = new URL(url);
    dbUrl.pathname = `/${name}`;
    const dir = mkdtempSync(path.join(tmpdir(), 'pulp-startup-'));
    try {
      await scenario('PostgreSQL', () => ({ DATA_DIR: dir, DATABASE_URL: dbUrl.href }));
    } finally {
      rmSync(dir, { recursive: true, force: true });
      await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin.end();
    }
  }
}

await main();
