import { chmodSync, lstatSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { makeDataDirPrivate } from '../../src/data-dir/private-modes.js';

const mode = (p: string) => lstatSync(p).mode & 0o777;

describe('making DATA_DIR private', () => {
  let base: string;
  afterEach(() => rmSync(base, { recursive: true, force: true }));

  it('tightens loose entries, keeps the sandbox folders readable, and never follows a symlink out', async () => {
    base = mkdtempSync(path.join(tmpdir(), 'pulp-private-'));
    const data = path.join(base, 'data');
    const outside = path.join(base, 'outside.txt');
    writeFileSync(outside, 'host file');
    chmodSync(outside, 0o666);
    const session = path.join(data, 'sessions', 'chat_0123456789ab');
    mkdirSync(path.join(session, 'input', 'nested'), { recursive: true });
    mkdirSync(path.join(session, 'output'), { recursive: true });
    mkdirSync(path.join(data, 'db'), { recursive: true });
    writeFileSync(path.join(data, 'db', 'PG_VERSION'), '17');
    writeFileSync(path.join(session, 'input', 'nested', 'data.csv'), 'a,b');
    writeFileSync(path.join(data, 'run.sh'), '#!/bin/sh');
    symlinkSync(outside, path.join(session, 'output', 'planted'));
    for (const p of [data, path.join(data, 'db'), path.join(data, 'db', 'PG_VERSION'), path.join(data, 'sessions'), session, path.join(session, 'input'),
      path.join(session, 'input', 'nested'), path.join(session, 'input', 'nested', 'data.csv'), path.join(session, 'output')]) chmodSync(p, 0o777);
    chmodSync(path.join(data, 'run.sh'), 0o755);

    const result = await makeDataDirPrivate(data);

    expect(result).toEqual({ tightened: 10, failed: 0, truncated: false });
    expect([mode(data), mode(path.join(data, 'db')), mode(path.join(data, 'sessions')), mode(session)]).toEqual([0o700, 0o700, 0o700, 0o700]);
    // Files lose group and other bits; the owner's stay as they were (0777 → 0700, 0755 → 0700).
    expect(mode(path.join(data, 'db', 'PG_VERSION'))).toBe(0o700);
    expect(mode(path.join(data, 'run.sh'))).toBe(0o700);
    expect(mode(path.join(session, 'input'))).toBe(0o755);
    expect(mode(path.join(session, 'input', 'nested'))).toBe(0o755);
    expect(mode(path.join(session, 'input', 'nested', 'data.csv'))).toBe(0o755);
    expect(mode(path.join(session, 'output'))).toBe(0o755);
    expect(mode(outside)).toBe(0o666);
    expect(await makeDataDirPrivate(data)).toEqual({ tightened: 0, failed: 0, truncated: false });
  });

  it('creates a missing DATA_DIR owner-only', async () => {
    base = mkdtempSync(path.join(tmpdir(), 'pulp-private-'));
    const data = path.join(base, 'new', 'data');
    expect(await makeDataDirPrivate(data)).toEqual({ tightened: 0, failed: 0, truncated: false });
    expect(mode(data) & 0o077).toBe(0);
  });
});
