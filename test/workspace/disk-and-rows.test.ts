/**
 * The workspace's disk and bookkeeping parts on their own: what a snapshot sees and reports as
 * changed, the `files` rows kept in step with a folder, listings and atomic writes, the jail's
 * error mapping and its containment check.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate } from '../../src/db/migrate.js';
import { AppError } from '../../src/errors/app-error.js';
import { FILE_MODE, TEMP_PREFIX, listFolder, tempNameIn, writeFileAtomic } from '../../src/workspace/disk.js';
import { deleteFileRows, listFileRows, syncFolderRows, upsertFileRow } from '../../src/workspace/files-table.js';
import { isInside, parseFolder, parseRelativePath, safeUploadName, toFileAppError, WorkspaceJail } from '../../src/workspace/jail.js';
import { changedFiles, snapshotFiles } from '../../src/workspace/snapshot.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { tempDirectory } from './support.js';

let dir: string;
beforeAll(() => {
  dir = tempDirectory('pulp-disk-');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function fresh(name: string): string {
  const d = path.join(dir, name);
  mkdirSync(d, { recursive: true });
  return d;
}

describe('snapshots of a folder', () => {
  it('list regular files at any depth with their size, skipping temp files and symlinks', async () => {
    const d = fresh('snap');
    mkdirSync(path.join(d, 'sub', 'deeper'), { recursive: true });
    writeFileSync(path.join(d, 'a.txt'), 'abc');
    writeFileSync(path.join(d, 'sub', 'b.csv'), '12345');
    writeFileSync(path.join(d, 'sub', 'deeper', 'c'), '');
    writeFileSync(path.join(d, `${TEMP_PREFIX}half`), 'partial');
    symlinkSync(path.join(d, 'a.txt'), path.join(d, 'link.txt'));
    const snap = await snapshotFiles(d);
    expect([...snap.keys()].sort()).toEqual(['a.txt', 'sub/b.csv', 'sub/deeper/c']);
    expect(snap.get('a.txt')?.size).toBe(3);
    expect(snap.get('sub/b.csv')?.size).toBe(5);
    expect(snap.get('a.txt')?.mtimeMs).toBe(statSync(path.join(d, 'a.txt')).mtimeMs);
  });

  it('of a missing folder is empty, and stops after the entry limit', async () => {
    expect((await snapshotFiles(path.join(dir, 'missing'))).size).toBe(0);
    const d = fresh('many');
    for (let i = 0; i < 10; i++) writeFileSync(path.join(d, `f${i}`), 'x');
    expect((await snapshotFiles(d, 4)).size).toBe(4);
    expect((await snapshotFiles(d, 10)).size).toBe(10);
  });

  it('report new files and files whose size or time changed, sorted', () => {
    const before = new Map([
      ['same', { size: 1, mtimeMs: 10 }],
      ['grown', { size: 1, mtimeMs: 10 }],
      ['touched', { size: 1, mtimeMs: 10 }],
      ['deleted', { size: 1, mtimeMs: 10 }],
    ]);
    const after = new Map([
      ['same', { size: 1, mtimeMs: 10 }],
      ['touched', { size: 1, mtimeMs: 11 }],
      ['grown', { size: 2, mtimeMs: 10 }],
      ['b-new', { size: 0, mtimeMs: 1 }],
    ]);
    expect(changedFiles(before, after)).toEqual(['b-new', 'grown', 'touched']);
    expect(changedFiles(after, after)).toEqual([]);
  });
});

describe('listing and writing', () => {
  it('lists folders first then files by name, with sizes, times and paths, leaving out temp files and links that leave the root', async () => {
    const root = fresh('list');
    const outside = fresh('list-outside');
    writeFileSync(path.join(outside, 'secret'), 'no');
    mkdirSync(path.join(root, 'zfolder'));
    mkdirSync(path.join(root, 'afolder'));
    writeFileSync(path.join(root, 'b.txt'), 'bb');
    writeFileSync(path.join(root, 'a.txt'), 'a');
    writeFileSync(path.join(root, 'C.txt'), 'ccc');
    writeFileSync(path.join(root, `${TEMP_PREFIX}x`), 'tmp');
    symlinkSync(path.join(outside, 'secret'), path.join(root, 'escape'));
    symlinkSync(path.join(root, 'a.txt'), path.join(root, 'inner-link'));
    symlinkSync(path.join(root, 'nowhere'), path.join(root, 'dangling'));
    utimesSync(path.join(root, 'a.txt'), new Date('2026-01-01T00:00:00Z'), new Date('2026-01-02T03:04:05Z'));

    const entries = await listFolder(root, root, 'output');
    expect(entries.map((e) => [e.name, e.type, e.size, e.path])).toEqual([
      ['afolder', 'folder', 0, 'output/afolder'],
      ['zfolder', 'folder', 0, 'output/zfolder'],
      ['C.txt', 'file', 3, 'output/C.txt'],
      ['a.txt', 'file', 1, 'output/a.txt'],
      ['b.txt', 'file', 2, 'output/b.txt'],
      ['inner-link', 'file', 1, 'output/inner-link'],
    ]);
    expect(entries.find((e) => e.name === 'a.txt')?.modified).toBe('2026-01-02T03:04:05.000Z');
    expect((await listFolder(path.join(root, 'afolder'), root, '')).length).toBe(0);
    writeFileSync(path.join(root, 'afolder', 'x'), '');
    expect((await listFolder(path.join(root, 'afolder'), root, ''))[0]?.path).toBe('x');
  });

  it('sorts many names by code point and leaves out entries that are neither file nor folder', async () => {
    const root = fresh('list-many');
    const names = ['j', 'i', 'h', 'g', 'f', 'e', 'd', 'c', 'b', 'a'];
    for (const name of names) writeFileSync(path.join(root, `${name}.txt`), name);
    mkdirSync(path.join(root, 'sub-b'));
    mkdirSync(path.join(root, 'sub-a'));
    expect(spawnSync('mkfifo', [path.join(root, 'pipe')]).status).toBe(0);
    const listed = (await listFolder(root, root, '')).map((e) => e.name);
    expect(listed).toEqual(['sub-a', 'sub-b', ...names.map((n) => `${n}.txt`).sort()]);
  });

  it('writes atomically into new folders with mode 644, replaces a file, and leaves no temp file', async () => {
    const root = fresh('write');
    const target = path.join(root, 'new', 'deep', 'file.txt');
    expect(await writeFileAtomic(target, 'hello', root)).toBe(5);
    expect(statSync(target).mode & 0o777).toBe(FILE_MODE);
    expect(await writeFileAtomic(target, new Uint8Array([1, 2]), root)).toBe(2);
    expect(readdirSync(path.dirname(target))).toEqual(['file.txt']);
    expect(path.basename(tempNameIn(root))).toMatch(new RegExp(`^${TEMP_PREFIX.replace(/[.-]/g, '\\$&')}[0-9a-f]{16}$`));
    expect(path.dirname(tempNameIn(root))).toBe(root);
  });

  it('replaces a symlink in the target place instead of writing through it', async () => {
    const root = fresh('write-link');
    const outside = fresh('write-link-outside');
    writeFileSync(path.join(outside, 'victim'), 'untouched');
    symlinkSync(path.join(outside, 'victim'), path.join(root, 'link'));
    await writeFileAtomic(path.join(root, 'link'), 'new', root);
    expect(statSync(path.join(outside, 'victim')).size).toBe('untouched'.length);
    expect(statSync(path.join(root, 'link')).size).toBe(3);
  });

  it('refuses to write when the folder is outside the root, and cleans up its temp file', async () => {
    const root = fresh('write-jail');
    const other = fresh('write-jail-other');
    await expect(writeFileAtomic(path.join(other, 'f'), 'x', root)).rejects.toMatchObject({ code: 'FILE_5004' });
    expect(readdirSync(other)).toEqual([]);
    // A rename onto a folder fails, and the temp file goes too.
    mkdirSync(path.join(root, 'isdir', 'child'), { recursive: true });
    await expect(writeFileAtomic(path.join(root, 'isdir'), 'x', root)).rejects.toThrow();
    expect(readdirSync(root).filter((n) => n.startsWith(TEMP_PREFIX))).toEqual([]);
  });
});

describe('jail details', () => {
  it('containment needs a separator boundary', () => {
    expect(isInside('/data/s1', '/data/s1')).toBe(true);
    expect(isInside('/data/s1', '/data/s1/a')).toBe(true);
    expect(isInside('/data/s1', '/data/s10/a')).toBe(false);
    expect(isInside('/data/s1/', '/data/s1/a')).toBe(true);
    expect(isInside('/data/s1', '/data')).toBe(false);
  });

  it('refusals carry FILE_5004 and say what was wrong', () => {
    const refusal = (fn: () => unknown) => {
      try {
        fn();
      } catch (err) {
        expect(err).toBeInstanceOf(AppError);
        expect((err as AppError).code).toBe('FILE_5004');
        return (err as AppError).message;
      }
      throw new Error('not refused');
    };
    expect(refusal(() => parseRelativePath(7))).toBe('The path must be a string.');
    expect(refusal(() => parseRelativePath('a\0b'))).toBe('The path contains a NUL byte.');
    expect(refusal(() => parseRelativePath('a\\b'))).toContain('Windows separators');
    expect(refusal(() => parseRelativePath('a%2Fb'))).toContain('Percent-encoded');
    expect(refusal(() => parseRelativePath('a%2eb'))).toContain('Percent-encoded');
    expect(refusal(() => parseRelativePath('a%5cb'))).toContain('Percent-encoded');
    expect(refusal(() => parseRelativePath('a%00b'))).toContain('Percent-encoded');
    expect(parseRelativePath('a%20b')).toEqual(['a%20b']);
    expect(refusal(() => parseRelativePath('/etc'))).toContain('Absolute paths');
    expect(refusal(() => parseRelativePath('C:x'))).toContain('Absolute paths');
    expect(parseRelativePath('dir/C:x')).toEqual(['dir', 'C:x']);
    expect(refusal(() => parseRelativePath('a/.../b'))).toContain('only of dots');
    expect(parseRelativePath('./a//b/.')).toEqual(['a', 'b']);
    expect(parseRelativePath('.hidden/..x')).toEqual(['.hidden', '..x']);
    expect(parseRelativePath('notes../v2..')).toEqual(['notes..', 'v2..']);
    expect(refusal(() => parseRelativePath(`a/${'n'.repeat(256)}`))).toBe('A name in the path is longer than 255 bytes.');
    expect(parseRelativePath('a/'.repeat(2048))).toHaveLength(2048);
    expect(refusal(() => parseRelativePath(`${'a/'.repeat(2048)}b`))).toBe('The path is longer than 4096 bytes.');
    expect(refusal(() => parseFolder('Input'))).toBe('The folder must be "input" or "output".');
    expect(parseFolder('output')).toBe('output');
    expect(refusal(() => safeUploadName(undefined))).toBe('The upload has no file name.');
    expect(refusal(() => safeUploadName('a\0'))).toBe('The file name contains a NUL byte.');
    expect(refusal(() => safeUploadName('a\\b'))).toContain('must not contain');
    expect(refusal(() => safeUploadName('a%2fb'))).toContain('Percent-encoded');
    expect(refusal(() => safeUploadName('   '))).toBe('The file name is empty.');
    expect(refusal(() => safeUploadName('..'))).toContain('only of dots');
    expect(safeUploadName('..a')).toBe('..a');
    expect(safeUploadName('a..')).toBe('a..');
    expect(safeUploadName(`${'é'.repeat(127)}a`)).toHaveLength(128);
    expect(safeUploadName(' a\tb\u007f.txt ')).toBe('a_b_.txt');
    expect(safeUploadName('é'.repeat(127))).toHaveLength(127);
    expect(refusal(() => safeUploadName('é'.repeat(128)))).toBe('The file name is longer than 255 bytes.');
  });

  it('maps file-system errors to client errors that never show host paths', () => {
    const err = (code: string) => Object.assign(new Error(`${code}: /srv/secret/path`), { code });
    expect(toFileAppError(err('ENOENT'), 'input/a')).toMatchObject({ code: 'FILE_5001', message: 'No file at "input/a".' });
    expect(toFileAppError(err('ENOTDIR'), 'input/a')).toMatchObject({ code: 'FILE_5001' });
    expect(toFileAppError(err('ELOOP'), 'x')).toMatchObject({ code: 'FILE_5004', message: '"x" is a symbolic link.' });
    expect(toFileAppError(err('EACCES'), 'x')).toMatchObject({ code: 'FILE_5004', message: '"x" cannot be accessed.' });
    expect(toFileAppError(err('EPERM'), 'x')).toMatchObject({ code: 'FILE_5004', message: '"x" cannot be accessed.' });
    expect(toFileAppError(err('EISDIR'), 'x')).toMatchObject({ code: 'FILE_5004', message: '"x" is a folder, not a file.' });
    expect(toFileAppError(err('ENAMETOOLONG'), 'x')).toMatchObject({ code: 'FILE_5004', message: 'The path is too long.' });
    expect(toFileAppError(err('EIO'), 'x')).toMatchObject({ code: 'INT_9001', message: 'The file operation failed.' });
    expect(toFileAppError('weird', 'x').code).toBe('INT_9001');
    const own = new AppError('FILE_5002');
    expect(toFileAppError(own, 'x')).toBe(own);
    for (const code of ['ENOENT', 'EACCES', 'EIO']) expect(toFileAppError(err(code), 'x').message).not.toContain('/srv');
  });

  it('resolves once per jail and reports whether the target exists', async () => {
    const root = fresh('jail-root');
    writeFileSync(path.join(root, 'here.txt'), 'x');
    const jail = new WorkspaceJail(root);
    const first = jail.rootReal();
    expect(jail.rootReal()).toBe(first);
    expect(await jail.resolve('here.txt')).toMatchObject({ exists: true, relative: 'here.txt', real: path.join(root, 'here.txt') });
    expect(await jail.resolve('./here.txt/')).toMatchObject({ exists: true, relative: 'here.txt' });
    expect(await jail.resolve('')).toMatchObject({ exists: true, relative: '', real: root, segments: [] });
    expect(await jail.resolve('later/x.txt')).toMatchObject({ exists: false, relative: 'later/x.txt', real: path.join(root, 'later', 'x.txt') });
  });
});

describe('the files table', () => {
  let database: TestDatabase;
  let session: string;
  beforeAll(async () => {
    database = await createTestDatabase();
    await migrate(database.db);
    const user = await database.db.query<{ id: string }>("INSERT INTO users (email) VALUES ('rows@x.test') RETURNING id");
    const s = await database.db.query<{ id: string }>("INSERT INTO sessions (user_id, session_id, model) VALUES ($1, 'chat_000000000abc', 'm') RETURNING id", [user.rows[0]!.id]);
    session = s.rows[0]!.id;
  });
  afterAll(() => database?.drop());

  const rows = async () => (await listFileRows(database.db, session)).map((r) => [r.folder, r.filename, r.content_type, Number(r.size_bytes)]);

  it('upserts one row per file, replacing its size and type', async () => {
    await upsertFileRow(database.db, { sessionUuid: session, folder: 'input', filename: 'data.csv', contentType: 'text/csv', sizeBytes: 10 });
    await upsertFileRow(database.db, { sessionUuid: session, folder: 'input', filename: 'data.csv', contentType: 'text/plain', sizeBytes: 12 });
    await upsertFileRow(database.db, { sessionUuid: session, folder: 'output', filename: 'data.csv', contentType: 'text/csv', sizeBytes: 1 });
    expect(await rows()).toEqual([
      ['input', 'data.csv', 'text/plain', 12],
      ['output', 'data.csv', 'text/csv', 1],
    ]);
  });

  it('deletes a file row or a whole sub-folder, taking names with % and _ literally', async () => {
    for (const filename of ['sub/a', 'sub/b/c', 'subway', 'x%y/z', 'x_y', 'xay/q']) {
      await upsertFileRow(database.db, { sessionUuid: session, folder: 'output', filename, contentType: 'text/plain', sizeBytes: 1 });
    }
    expect(await deleteFileRows(database.db, session, 'output', 'sub')).toBe(2);
    expect(await deleteFileRows(database.db, session, 'output', 'x%y')).toBe(1);
    expect(await deleteFileRows(database.db, session, 'output', 'x_y')).toBe(1);
    expect(await deleteFileRows(database.db, session, 'input', 'xay')).toBe(0);
    expect((await rows()).map((r) => r[1])).toEqual(['data.csv', 'data.csv', 'subway', 'xay/q']);
  });

  it('syncs a folder with what is on disk: new and changed files upserted, vanished ones deleted, the other folder untouched', async () => {
    const before = await listFileRows(database.db, session);
    const kept = before.find((r) => r.folder === 'output' && r.filename === 'data.csv')!;
    await syncFolderRows(
      database.db,
      session,
      'output',
      new Map([
        ['data.csv', { size: 1 }],
        ['chart.png', { size: 2048 }],
        ['subway', { size: 7 }],
      ]),
      (name) => (name.endsWith('.png') ? 'image/png' : 'text/plain'),
    );
    expect(await rows()).toEqual([
      ['input', 'data.csv', 'text/plain', 12],
      ['output', 'chart.png', 'image/png', 2048],
      ['output', 'data.csv', 'text/plain', 1],
      ['output', 'subway', 'text/plain', 7],
    ]);
    const after = await listFileRows(database.db, session);
    // An unchanged size keeps its time; a changed one is stamped now.
    expect(after.find((r) => r.folder === 'output' && r.filename === 'data.csv')!.uploaded_at.getTime()).toBe(kept.uploaded_at.getTime());
    await syncFolderRows(database.db, session, 'output', new Map(), () => 'x');
    expect(await rows()).toEqual([['input', 'data.csv', 'text/plain', 12]]);
  });
});
