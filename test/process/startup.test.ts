import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { apiClient } from '../support/api.js';
import { spawnPulpRaw, startPulpProcess } from '../support/pulp-process.js';

const dirs: string[] = [];
const freshDir = () => {
  const d = mkdtempSync(path.join(tmpdir(), 'pulp-start-'));
  dirs.push(d);
  return d;
};
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

describe('starting the server', () => {
  it('serves ready on a fresh DATA_DIR with no configuration, and keeps the data across a restart', { timeout: 120_000 }, async () => {
    const DATA_DIR = freshDir();
    const first = await startPulpProcess({ DATA_DIR });
    const api = apiClient(first.baseUrl);
    expect((await api('GET', '/health/ready')).body).toEqual({ ready: true });
    const created = await api('POST', '/sessions', { title: 'survives restarts' });
    expect(created.status).toBe(201);
    first.child.kill('SIGTERM');
    expect(await first.exited).toBe(0);

    const second = await startPulpProcess({ DATA_DIR });
    try {
      const list = await apiClient(second.baseUrl)('GET', '/sessions');
      expect(list.body.sessions.map((s: { title: string }) => s.title)).toEqual(['survives restarts']);
      // The embedded database is one server's: a second process on it refuses to start, clearly.
      const intruder = spawnPulpRaw({ DATA_DIR });
      expect(await intruder.exited).toBe(2);
      expect(intruder.lines.join('\n')).toMatch(/in use by another Pulp process \(pid \d+\).*DATABASE_URL/);
      expect((await apiClient(second.baseUrl)('GET', '/health/ready')).status).toBe(200);
    } finally {
      second.child.kill('SIGTERM');
      expect(await second.exited).toBe(0);
    }
  });

  it('exits non-zero with one clear line when the database cannot be reached', async () => {
    const p = spawnPulpRaw({ DATA_DIR: freshDir(), DATABASE_URL: 'postgres://postgres@127.0.0.1:1/none', DB_STARTUP_ATTEMPTS: '2' });
    const code = await p.exited;
    expect(code).not.toBe(0);
    const fatal = p.lines.filter((l) => l.includes('"level":60'));
    expect(fatal).toHaveLength(1);
    expect(fatal[0]).toContain('database unreachable after 2 attempts');
    expect(p.lines.some((l) => l.includes('retrying'))).toBe(true);
  });

  it('exits with one line naming the variable when the configuration is invalid', async () => {
    const p = spawnPulpRaw({ DATA_DIR: freshDir(), PORT: 'lots' });
    expect(await p.exited).toBe(2);
    expect(p.lines).toEqual([expect.stringContaining('PORT')]);
  });
});
