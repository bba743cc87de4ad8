/**
 * Runs the compiled server as a real child process, exactly as `npm start` does
 * (`node --enable-source-maps dist/main.js`), and reads its log lines. dist/ is built by the
 * tests' global setup (test/support/global-setup.ts), so it is never stale.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';

const ROOT = path.resolve(import.meta.dirname, '../..');

/**
 * The arguments to Node.js of package.json's `start` script (`node --enable-source-maps
 * dist/main.js`), so the tests start the server the way users do, with this test run's Node.js.
 */
export const START_ARGS: readonly string[] = (() => {
  const manifest = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { scripts: { start: string } };
  const [command, ...args] = manifest.scripts.start.trim().split(/\s+/);
  if (command !== 'node' || args.length === 0) throw new Error(`package.json's start script is not "node …": ${manifest.scripts.start}`);
  return args;
})();

export interface PulpProcess {
  child: ChildProcess;
  baseUrl: string;
  lines: string[];
  /** Resolves with the exit code (or signal name). */
  exited: Promise<number | string>;
}

export interface SpawnedPulp {
  child: ChildProcess;
  lines: string[];
  exited: Promise<number | string>;
  /** Resolves with the first log line that matches. */
  waitForLine(match: (line: string) => boolean): Promise<string>;
}

/** Starts the compiled server (`START_ARGS`) with only `env` and a few basics in its environment. */
export function spawnPulpRaw(env: Record<string, string>): SpawnedPulp {
  return spawnWithLines(process.execPath, START_ARGS, env);
}

/**
 * Runs `command` in the checkout with a clean environment (PATH, HOME, LOG_LEVEL=info, PORT=0, then
 * `env`) and collects its stdout and stderr lines.
 */
export function spawnWithLines(command: string, args: readonly string[], env: Record<string, string>): SpawnedPulp {
  const child = spawn(command, args, {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', LOG_LEVEL: 'info', PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  const waiters: Array<{ match: (l: string) => boolean; resolve: (l: string) => void }> = [];
  const onLine = (line: string) => {
    lines.push(line);
    for (const w of [...waiters]) {
      if (w.match(line)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(line);
      }
    }
  };
  createInterface({ input: child.stdout }).on('line', onLine);
  createInterface({ input: child.stderr }).on('line', onLine);
  const exited = once(child, 'exit').then(([code, signal]) => (code ?? signal) as number | string);
  return {
    child,
    lines,
    exited,
    waitForLine(match) {
      const found = lines.find(match);
      if (found) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        waiters.push({ match, resolve });
        void exited.then((code) => reject(new Error(`pulp exited (${code}) before the expected line; output:\n${lines.join('\n')}`)));
      });
    },
  };
}

/** Resolves with the base URL of the "Pulp listening on …" log line. */
export async function listeningAt(p: SpawnedPulp): Promise<string> {
  const line = await p.waitForLine((l) => l.includes('Pulp listening on'));
  const baseUrl = /listening on (http:\/\/[^"\s]+)/.exec(line)?.[1];
  if (!baseUrl) throw new Error(`no address in: ${line}`);
  return baseUrl;
}

/** Starts Pulp and resolves once it listens. */
export async function startPulpProcess(env: Record<string, string>): Promise<PulpProcess> {
  const p = spawnPulpRaw(env);
  const baseUrl = await listeningAt(p);
  return { child: p.child, baseUrl, lines: p.lines, exited: p.exited };
}

/** The variables that point Pulp at the fake model server over Chat Completions. */
export function fakeModelEnv(baseUrl: string): Record<string, string> {
  return { OPENAI_BASE_URL: baseUrl, OPENAI_API_KEY: 'test', LLM_PROVIDER: 'openai', OPENAI_API_MODE: 'chat_completions', DEFAULT_MODEL: 'gpt-4o-mini' };
}

/**
 * A fresh DATA_DIR whose `mcp.json` turns the built-in MCP servers off: six child processes that
 * play no part in a chat turn and only slow the start.
 */
export function dataDirWithoutBuiltins(prefix: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  const off = { disabled: true };
  writeFileSync(path.join(dir, 'mcp.json'), JSON.stringify({ mcpServers: { fetch: off, 'sequential-thinking': off } }));
  return dir;
}
