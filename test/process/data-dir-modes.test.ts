/**
 * DATA_DIR is private to the server's user: a fresh start under a world-readable parent creates
 * the database and session folders owner-only whatever the umask it was started with, and a
 * restart on a directory someone loosened (chmod -R 0777) tightens it again and says so. When
 * the tests run as root, another uid is shown to be refused for real.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, lstatSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { apiClient } from '../support/api.js';
import { startPulpProcess } from '../support/pulp-process.js';

const parent = mkdtempSync(path.join(tmpdir(), 'pulp-modes-'));
// A parent anyone may traverse, as /srv or /var/lib usually are: only DATA_DIR's own modes protect it.
chmodSync(parent, 0o755);
afterAll(() => rmSync(parent, { recursive: true, force: true }));

/** Every entry below `dir` (never following links) with its permission bits, relative to `dir`. */
function modesUnder(dir: string): Map<string, number> {
  const out = new Map<string, number>([['.', lstatSync(dir).mode & 0o777]]);
  for (const name of readdirSync(dir, { recursive: true }) as string[]) {
    const stats = lstatSync(path.join(dir, name));
    if (!stats.isSymbolicLink()) out.set(name, stats.mode & 0o777);
  }
  return out;
}

/** Entries whose mode lets another local user in; a session's input/ and output/ keep read bits for the sandbox. */
function looseEntries(dir: string): string[] {
  const loose: string[] = [];
  for (const [name, mode] of modesUnder(dir)) {
    const sandboxShared = /^sessions\/chat_[0-9a-f]{12}\/(input|output)(\/|$)/.test(name);
    if (sandboxShared ? mode & 0o022 : mode & 0o077) loose.push(`${name} ${mode.toString(8)}`);
  }
  return loose;
}

describe('a private DATA_DIR', () => {
  const DATA_DIR = path.join(parent, 'data');
  const mcpConfig = path.join(parent, 'mcp.json');
  writeFileSync(mcpConfig, JSON.stringify({ mcpServers: { fetch: { disabled: true }, 'sequential-thinking': { disabled: true } } }));
  const env = { DATA_DIR, MCP_CONFIG: mcpConfig, LLM_PROVIDER: 'offline', CODE_INTERPRETER: 'off' };

  it('a fresh start creates the database and session folders owner-only, and a restart tightens a loosened one', { timeout: 120_000 }, async () => {
    const first = await startPulpProcess(env);
    const { session_id } = (await apiClient(first.baseUrl)<{ session_id: string }>('POST', '/sessions', {})).body;
    // Private while it runs, not only once it stopped.
    expect(lstatSync(DATA_DIR).mode & 0o777).toBe(0o700);
    expect(lstatSync(path.join(DATA_DIR, 'db', 'PG_VERSION')).mode & 0o777).toBe(0o600);
    first.child.kill('SIGTERM');
    expect(await first.exited).toBe(0);

    const modes = modesUnder(DATA_DIR);
    expect(modes.get('.')).toBe(0o700);
    expect(modes.get('db')).toBe(0o700);
    expect(modes.get('db/PG_VERSION')).toBe(0o600);
    expect(modes.get(`sessions/${session_id}`)).toBe(0o700);
    expect(modes.get(`sessions/${session_id}/input`)).toBe(0o755);
    expect(looseEntries(DATA_DIR)).toEqual([]);
    expect(first.lines.join('\n')).not.toContain('tightened the modes');

    spawnSync('chmod', ['-R', '0777', DATA_DIR]);
    expect(looseEntries(DATA_DIR).length).toBeGreaterThan(10);
    const second = await startPulpProcess(env);
    try {
      const line = second.lines.find((l) => l.includes('tightened the modes'));
      expect(line).toMatch(/tightened the modes of \d+ entries in DATA_DIR/);
      expect(looseEntries(DATA_DIR)).toEqual([]);
      // The data is all there: only modes changed.
      const list = await apiClient(second.baseUrl)<{ sessions: Array<{ session_id: string }> }>('GET', '/sessions');
      expect(list.body.sessions.map((s) => s.session_id)).toEqual([session_id]);
    } finally {
      second.child.kill('SIGTERM');
      expect(await second.exited).toBe(0);
    }
  });

  it('another local user cannot read the database', (context) => {
    if (process.getuid?.() !== 0) {
      console.warn('skipping the other-uid check: it needs root to switch to another uid (setpriv)');
      context.skip();
    }
    const read = spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', 'cat', path.join(DATA_DIR, 'db', 'PG_VERSION')], { encoding: 'utf8' });
    if (read.error) {
      console.warn(`skipping the other-uid check: setpriv did not run (${read.error.message})`);
      context.skip();
    }
    expect(read.status).not.toBe(0);
    expect(read.stderr).toMatch(/Permission denied/);
    const list = spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', 'ls', DATA_DIR], { encoding: 'utf8' });
    expect(list.stderr).toMatch(/Permission denied/);
  });
});
