/** Runs `src/main.ts` as a real child process, as `npm start` would, and reads its log lines. */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';

const ROOT = path.resolve(import.meta.dirname, '../..');

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

export function spawnPulpRaw(env: Record<string, string>): SpawnedPulp {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
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
  createInterface({ input: child.stdout! }).on('line', onLine);
  createInterface({ input: child.stderr! }).on('line', onLine);
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

/** Starts Pulp and resolves once it listens. */
export async function startPulpProcess(env: Record<string, string>): Promise<PulpProcess> {
  const p = spawnPulpRaw(env);
  const line = await p.waitForLine((l) => l.includes('Pulp listening on'));
  const baseUrl = /listening on (http:\/\/[^"\s]+)/.exec(line)?.[1];
  if (!baseUrl) throw new Error(`no address in: ${line}`);
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
