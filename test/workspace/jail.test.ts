import { chmodSync, mkdirSync, realpathSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '../../src/errors/app-error.js';
import { openInsideForRead, parseFolder, parseRelativePath, resolveInside, safeUploadName, WorkspaceJail } from '../../src/workspace/jail.js';
import { createWorkspace } from '../../src/workspace/workspace.js';
import { tempDirectory } from '../support/temp-dir.js';

const refusedWith5004 = (fn: () => unknown) => {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).code).toBe('FILE_5004');
    return;
  }
  throw new Error('expected a FILE_5004 refusal');
};

describe('path text checks', () => {
  it('normalizes harmless paths into segments', () => {
    expect(parseRelativePath('')).toEqual([]);
    expect(parseRelativePath('.')).toEqual([]);
    expect(parseRelativePath('./input//data.csv/')).toEqual(['input', 'data.csv']);
    expect(parseRelativePath('output/a b/ünïcode.txt')).toEqual(['output', 'a b', 'ünïcode.txt']);
  });

  it('refuses traversal, absolute paths, NUL, backslashes, encoded tricks, dot-only and overlong names', () => {
    for (const bad of ['..', 'input/../..', '/etc/passwd', 'C:/x', 'a\0b', 'a\\b', '..%2fx', '%2e%2e/x', 'a%5cb', 'x%00', '...', 'a/..../b', 'n'.repeat(256), `${'d/'.repeat(2100)}x`]) {
      refusedWith5004(() => parseRelativePath(bad));
    }
    refusedWith5004(() => parseRelativePath(42));
  });

  it('a name of 255 bytes is fine and 256 bytes is not, counting UTF-8 bytes', () => {
    expect(parseRelativePath('é'.repeat(127) + 'a')).toHaveLength(1);
    refusedWith5004(() => parseRelativePath('é'.repeat(128)));
  });

  it('folders are only input and output', () => {
    expect(parseFolder('input')).toBe('input');
    expect(parseFolder('output')).toBe('output');
    for (const bad of ['..', 'Input', '', 'input/..', undefined]) refusedWith5004(() => parseFolder(bad));
  });

  it('upload names keep their text, lose control characters and outer spaces, and are refused when unsafe', () => {
    expect(safeUploadName(' report\tfinal\u0007.csv ')).toBe('report_final_.csv');
    expect(safeUploadName('日本語.txt')).toBe('日本語.txt');
    for (const bad of ['a/b', 'a\\b', '..', '.', '...', '', '   ', 'x\0', 'x'.repeat(256), '%2e%2e%2fx']) refusedWith5004(() => safeUploadName(bad));
  });
});

describe('resolving on disk', () => {
  let dir: string;
  let root: string;
  let outside: string;

  beforeAll(async () => {
    dir = tempDirectory('pulp-jail-');
    root = realpathSync(await createWorkspace(path.join(dir, 'data')).create('chat_00000000abcd'));
    outside = path.join(dir, 'outside');
    mkdirSync(outside);
    writeFileSync(path.join(outside, 'secret'), 's');
    writeFileSync(path.join(root, 'input', 'a.txt'), 'a');
    symlinkSync(path.join(root, 'input', 'a.txt'), path.join(root, 'output', 'inside-link'));
    symlinkSync(outside, path.join(root, 'output', 'out-dir'));
    symlinkSync(path.join(outside, 'missing'), path.join(root, 'output', 'dangling'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('follows a symlink that stays inside the session', async () => {
    expect(await resolveInside(root, ['output', 'inside-link'])).toEqual({ real: path.join(root, 'input', 'a.txt'), exists: true });
  });

  it('a path that does not exist yet resolves through its deepest existing folder', async () => {
    expect(await resolveInside(root, ['output', 'new', 'deep.txt'])).toEqual({ real: path.join(root, 'output', 'new', 'deep.txt'), exists: false });
  });

  it('a new file under a folder symlink that stays inside resolves through the link', async () => {
    symlinkSync(path.join(root, 'input'), path.join(root, 'output', 'in-dir'));
    expect(await resolveInside(root, ['output', 'in-dir', 'fresh.txt'])).toEqual({ real: path.join(root, 'input', 'fresh.txt'), exists: false });
  });

  it('refuses a path that uses a file as a folder', async () => {
    await expect(resolveInside(root, ['input', 'a.txt', 'x'])).rejects.toMatchObject({ code: 'FILE_5004' });
  });

  it('refuses paths through a link to outside, even to files that do not exist there', async () => {
    await expect(resolveInside(root, ['output', 'out-dir', 'secret'])).rejects.toMatchObject({ code: 'FILE_5004' });
    await expect(resolveInside(root, ['output', 'out-dir', 'not-yet'])).rejects.toMatchObject({ code: 'FILE_5004' });
  });

  it('refuses a dangling symlink, which a write would follow out of the session', async () => {
    await expect(resolveInside(root, ['output', 'dangling'])).rejects.toMatchObject({ code: 'FILE_5004' });
  });

  it('says why a path on disk is refused', async () => {
    const message = (segments: string[]) => resolveInside(root, segments).then(() => 'resolved', (err: AppError) => `${err.code} ${err.message}`);
    expect(await message(['input', 'a.txt', 'x'])).toBe('FILE_5004 The path goes through a file as if it were a folder.');
    expect(await message(['output', 'out-dir', 'secret'])).toBe('FILE_5004 The path leads outside the workspace.');
    expect(await message(['output', 'dangling'])).toBe('FILE_5004 The path goes through a broken link.');
    symlinkSync(path.join(root, 'output', 'loop-b'), path.join(root, 'output', 'loop-a'));
    symlinkSync(path.join(root, 'output', 'loop-a'), path.join(root, 'output', 'loop-b'));
    expect(await message(['output', 'loop-a'])).toBe('FILE_5004 The path goes through a broken link.');
    expect(await message(['output', 'loop-a', 'below.txt'])).toBe('FILE_5004 The path goes through a broken link.');
    expect(await resolveInside(root, [])).toEqual({ real: root, exists: true });
  });

  it('opens a file for reading but never through a final symlink', async () => {
    const handle = await openInsideForRead(path.join(root, 'input', 'a.txt'), root);
    try {
      expect(await handle.readFile('utf8')).toBe('a');
    } finally {
      await handle.close();
    }
    await expect(openInsideForRead(path.join(root, 'output', 'inside-link'), root)).rejects.toMatchObject({ code: 'FILE_5004', message: 'The path is a symbolic link.' });
    await expect(openInsideForRead(path.join(root, 'input', 'missing.txt'), root)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('the jail resolves paths relative to the session root and reports the normalized path', async () => {
    const jail = new WorkspaceJail(root);
    expect(await jail.resolve('./input//a.txt')).toMatchObject({ exists: true, relative: 'input/a.txt', segments: ['input', 'a.txt'] });
  });
});

describe('session workspaces', () => {
  it('are created with input/ and output/ and removed with everything in them', async () => {
    const dir = tempDirectory('pulp-wsdir-');
    try {
      const workspace = createWorkspace(path.join(dir, 'data'));
      const root = await workspace.create('chat_0123456789ab');
      expect(root).toBe(path.join(dir, 'data', 'sessions', 'chat_0123456789ab'));
      writeFileSync(path.join(root, 'output', 'x.txt'), 'x');
      expect(await workspace.create('chat_0123456789ab')).toBe(root);
      await workspace.remove('chat_0123456789ab');
      await expect(import('node:fs/promises').then((fs) => fs.stat(root))).rejects.toMatchObject({ code: 'ENOENT' });
      await workspace.remove('chat_0123456789ab');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('keep input/ and output/ open to the sandbox user and the session folder private, whatever the umask left or someone changed', async () => {
    const dir = tempDirectory('pulp-wsmode-');
    try {
      const workspace = createWorkspace(path.join(dir, 'data'));
      const root = await workspace.create('chat_0123456789ab');
      const folders = [root, path.join(root, 'input'), path.join(root, 'output')];
      for (const folder of folders) chmodSync(folder, 0o777);
      await workspace.create('chat_0123456789ab');
      expect(statSync(root).mode & 0o777).toBe(0o700);
      for (const folder of folders.slice(1)) expect(statSync(folder).mode & 0o777, folder).toBe(0o755);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('never turn a crafted session id into a path', () => {
    const workspace = createWorkspace('/tmp/never-used');
    for (const bad of ['../x', 'chat_../../etc', 'chat_0123456789AB', 'chat_0123', 'xchat_0123456789ab', 'chat_0123456789ab/..', 'chat_0123456789abc']) refusedWith5004(() => workspace.root(bad));
    expect(() => workspace.root('../x')).toThrow('Not a session id.');
  });
});
