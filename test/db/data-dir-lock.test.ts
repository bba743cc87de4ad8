/** The embedded database's lock file: one live owner; a lock left by a dead process is taken over. */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DataDirInUseError, lockDataDir } from '../../src/db/data-dir-lock.js';

const dirs: string[] = [];
const fresh = () => {
  const d = mkdtempSync(path.join(tmpdir(), 'pulp-lock-'));
  dirs.push(d);
  return d;
};
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

describe('data dir lock', () => {
  it('writes this pid, refuses while another live process holds it, and is gone after release', () => {
    const dir = fresh();
    const release = lockDataDir(dir);
    expect(readFileSync(path.join(dir, 'pulp.lock'), 'utf8')).toBe(String(process.pid));
    release();
    expect(existsSync(path.join(dir, 'pulp.lock'))).toBe(false);

    writeFileSync(path.join(dir, 'pulp.lock'), String(process.ppid));
    expect(() => lockDataDir(dir)).toThrow(DataDirInUseError);
    expect(() => lockDataDir(dir)).toThrow(new RegExp(`pid ${process.ppid}`));
  });

  it('takes over a lock whose owner is gone, or that is unreadable', () => {
    const dir = fresh();
    writeFileSync(path.join(dir, 'pulp.lock'), '2147483646');
    lockDataDir(dir)();
    writeFileSync(path.join(dir, 'pulp.lock'), 'garbage');
    const release = lockDataDir(dir);
    expect(readFileSync(path.join(dir, 'pulp.lock'), 'utf8')).toBe(String(process.pid));
    release();
  });
});
