/** Helpers for the MCP tests: config files, fixture paths, process liveness, a steppable clock. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { RunContext, type FunctionTool } from '@openai/agents';
import pino from 'pino';
import { Registry } from 'prom-client';
import { resolvePackageBin } from '../../src/mcp/builtins.js';
import type { Clock } from '../../src/mcp/clock.js';
import { McpManager, type McpManagerOptions } from '../../src/mcp/manager.js';

export const EVERYTHING_BIN = resolvePackageBin('@modelcontextprotocol/server-everything');

export function fixture(name: string): string {
  return fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));
}

export const nodeServer = (script: string, ...args: string[]) => ({ command: process.execPath, args: [script, ...args] });

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export interface TempDir {
  dir: string;
  remove(): void;
}

export function tempDir(): TempDir {
  const dir = mkdtempSync(path.join(tmpdir(), 'pulp-mcp-'));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Writes `{mcpServers}` to `dir/mcp.json` and returns its path. */
export function writeMcpConfig(dir: string, servers: Record<string, unknown>): string {
  const file = path.join(dir, 'mcp.json');
  writeFileSync(file, JSON.stringify({ mcpServers: servers }));
  return file;
}

export function makeManager(
  dir: string,
  servers: Record<string, unknown> | undefined,
  overrides: Partial<Omit<McpManagerOptions, 'config'>> & { poolSize?: number; acquireTimeoutMs?: number; fetchAllowedHosts?: string } = {},
): { manager: McpManager; registry: Registry } {
  const registry = new Registry();
  const { poolSize = 1, acquireTimeoutMs = 10_000, fetchAllowedHosts, ...rest } = overrides;
  const manager = new McpManager({
    config: { configPath: servers ? writeMcpConfig(dir, servers) : undefined, poolSize, acquireTimeoutMs, dataDir: dir, fetchAllowedHosts },
    logger: pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }),
    registry,
    ...rest,
  });
  return { manager, registry };
}

/** Runs an agent tool the way the SDK runner does: `invoke(runContext, jsonArguments, details)`. */
export async function invokeTool(tools: FunctionTool[], name: string, args: Record<string, unknown>, signal?: AbortSignal): Promise<unknown> {
  const found = tools.find((t) => t.name === name);
  if (!found) throw new Error(`no tool ${name} among ${tools.map((t) => t.name).join(', ')}`);
  return found.invoke(new RunContext({}), JSON.stringify(args), signal ? { signal } : undefined);
}

/** A clock whose sleeps are recorded and resolved at once (`auto`) or by the test (`release`). */
export function steppedClock(auto: boolean): Clock & { sleeps: number[]; waitForSleep(count: number): Promise<void>; release(): void } {
  const sleeps: number[] = [];
  const pending: Array<() => void> = [];
  const watchers: Array<{ count: number; resolve: () => void }> = [];
  return {
    sleeps,
    now: () => Date.now(),
    sleep(ms, signal) {
      sleeps.push(ms);
      for (const w of watchers.filter((w) => sleeps.length >= w.count)) {
        watchers.splice(watchers.indexOf(w), 1);
        w.resolve();
      }
      if (auto) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const onAbort = () => reject(signal.reason as Error);
        signal.addEventListener('abort', onAbort, { once: true });
        pending.push(() => {
          signal.removeEventListener('abort', onAbort);
          resolve();
        });
      });
    },
    waitForSleep(count) {
      if (sleeps.length >= count) return Promise.resolve();
      return new Promise((resolve) => watchers.push({ count, resolve }));
    },
    release() {
      pending.shift()?.();
    },
  };
}
