import { mkdirSync, readFileSync, rmSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { RunContext } from '@openai/agents';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/database.js';
import { migrate } from '../../src/db/migrate.js';
import { createWorkspaceTools, type WorkspaceTool } from '../../src/workspace/tools/workspace-tools.js';
import { createWorkspace } from '../../src/workspace/workspace.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { createSessionRow, createUser, tempDirectory, type TestSession } from './support.js';

describe('the built-in file tools', () => {
  let database: TestDatabase;
  let db: Database;
  let dir: string;
  let session: TestSession;
  let tools: Map<string, WorkspaceTool>;
  const context = new RunContext();

  const call = async (name: string, args: Record<string, unknown>) => {
    const tool = tools.get(name);
    if (!tool) throw new Error(`no tool ${name}`);
    return JSON.parse(String(await tool.invoke(context, JSON.stringify(args))));
  };
  const file = (rel: string) => path.join(session.root, rel);

  beforeAll(async () => {
    database = await createTestDatabase();
    db = database.db;
    await migrate(db);
    dir = tempDirectory('pulp-tools-');
    const workspace = createWorkspace(dir);
    session = await createSessionRow(db, workspace, await createUser(db));
    tools = new Map(createWorkspaceTools({ root: session.root, sessionUuid: session.uuid, db, sandbox: undefined }).map((t) => [t.name, t]));
  });
  afterAll(async () => {
    await database?.drop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('without a sandbox the model is offered the five file tools and no code interpreter', () => {
    expect([...tools.keys()].sort()).toEqual(['edit_file', 'generate_document', 'list_directory', 'read_file', 'search_files']);
  });

  it('list_directory shows input/ and output/ at the root and files with sizes and relative paths', async () => {
    writeFileSync(file('input/data.csv'), 'a,b\n1,2\n');
    const root = await call('list_directory', {});
    expect(root).toMatchObject({ success: true, path: '.', count: 2 });
    expect(root.entries.map((e: { name: string; type: string }) => [e.name, e.type])).toEqual([['input', 'folder'], ['output', 'folder']]);
    const input = await call('list_directory', { path: 'input' });
    expect(input.entries).toEqual([expect.objectContaining({ name: 'data.csv', type: 'file', size: 8, path: 'input/data.csv' })]);
  });

  it('read_file returns CSV text, and head/tail pick lines', async () => {
    writeFileSync(file('input/lines.txt'), Array.from({ length: 10 }, (_, i) => `line ${i + 1}`).join('\n') + '\n');
    expect(await call('read_file', { path: 'input/data.csv' })).toMatchObject({ success: true, content: 'a,b\n1,2\n', truncated: false, total_lines: 2 });
    expect((await call('read_file', { path: 'input/lines.txt', head: 2 })).content).toBe('line 1\nline 2');
    expect((await call('read_file', { path: 'input/lines.txt', tail: 2, head: null })).content).toBe('line 9\nline 10');
    const both = await call('read_file', { path: 'input/lines.txt', head: 1, tail: 1 });
    expect(both.content).toBe('line 1\n[... lines 2-9 not shown ...]\nline 10');
  });

  it('read_file cuts a long file at 10 000 tokens with a note on head/tail, counting <|endoftext|> as plain text', async () => {
    const lines = Array.from({ length: 4000 }, (_, i) => `row ${i} <|endoftext|> some words to count here`);
    writeFileSync(file('input/big.txt'), lines.join('\n'));
    const result = await call('read_file', { path: 'input/big.txt' });
    expect(result.success).toBe(true);
    expect(result.truncated).toBe(true);
    expect(result.total_lines).toBe(4000);
    expect(result.note).toMatch(/head/);
    expect(result.note).toMatch(/tail/);
    expect(result.content.startsWith('row 0 <|endoftext|>')).toBe(true);
    const shownLines = result.content.trimEnd().split('\n');
    expect(shownLines.length).toBeGreaterThan(100);
    expect(shownLines.length).toBeLessThan(4000);
    expect(lines).toContain(shownLines[shownLines.length - 1]);
  });

  it('read_file refuses a binary file and a missing one with readable errors', async () => {
    writeFileSync(file('input/blob.bin'), Buffer.from([1, 0, 2, 3]));
    expect(await call('read_file', { path: 'input/blob.bin' })).toMatchObject({ success: false, error: { code: 'FILE_5004' } });
    expect(await call('read_file', { path: 'input/none.txt' })).toMatchObject({ success: false, error: { code: 'FILE_5001' } });
  });

  it('search_files finds files by glob at any depth and flags truncation', async () => {
    mkdirSync(file('output/deep/er'), { recursive: true });
    writeFileSync(file('output/deep/er/x.csv'), '1');
    writeFileSync(file('output/top.csv'), '1');
    const found = await call('search_files', { pattern: '*.csv' });
    expect(found.matches).toEqual(['input/data.csv', 'output/deep/er/x.csv', 'output/top.csv']);
    expect(found.truncated).toBe(false);
    const scoped = await call('search_files', { pattern: 'deep/**/*.csv', path: 'output' });
    expect(scoped.matches).toEqual(['output/deep/er/x.csv']);
    const limited = await call('search_files', { pattern: '*.csv', max_results: 1 });
    expect(limited).toMatchObject({ matches: ['input/data.csv'], truncated: true });
  });

  it('edit_file replaces an exact match and returns a unified diff', async () => {
    writeFileSync(file('output/app.py'), 'def hello():\n    return "hi"\n\nprint(hello())\n');
    const result = await call('edit_file', { path: 'output/app.py', edits: [{ old_text: 'return "hi"', new_text: 'return "hello"' }] });
    expect(result).toMatchObject({ success: true, edits_applied: 1, matches: ['exact'] });
    expect(result.diff).toContain('--- a/output/app.py');
    expect(result.diff).toContain('-    return "hi"');
    expect(result.diff).toContain('+    return "hello"');
    expect(readFileSync(file('output/app.py'), 'utf8')).toBe('def hello():\n    return "hello"\n\nprint(hello())\n');
  });

  it('edit_file falls back to a whitespace-tolerant match and replaces exactly the matched span', async () => {
    writeFileSync(file('output/ws.txt'), 'keep  this\tprefix | total =   1 + 2 | keep suffix\n');
    const result = await call('edit_file', { path: 'output/ws.txt', edits: [{ old_text: 'total = 1 +\n2', new_text: 'total = 3' }] });
    expect(result).toMatchObject({ success: true, matches: ['whitespace'] });
    expect(readFileSync(file('output/ws.txt'), 'utf8')).toBe('keep  this\tprefix | total = 3 | keep suffix\n');
  });

  it('edit_file applies nothing when one edit of the batch has no match', async () => {
    const before = 'alpha\nbeta\ngamma\n';
    writeFileSync(file('output/batch.txt'), before);
    const result = await call('edit_file', {
      path: 'output/batch.txt',
      edits: [
        { old_text: 'alpha', new_text: 'ALPHA' },
        { old_text: 'delta', new_text: 'DELTA' },
      ],
    });
    expect(result.success).toBe(false);
    expect(result.error.message).toMatch(/edit 2/);
    expect(readFileSync(file('output/batch.txt'), 'utf8')).toBe(before);
  });

  it('edit_file refuses an ambiguous match instead of guessing', async () => {
    writeFileSync(file('output/twice.txt'), 'x = 1\nx = 1\n');
    const result = await call('edit_file', { path: 'output/twice.txt', edits: [{ old_text: 'x = 1', new_text: 'x = 2' }] });
    expect(result.success).toBe(false);
    expect(result.error.message).toMatch(/more than once/);
    expect(readFileSync(file('output/twice.txt'), 'utf8')).toBe('x = 1\nx = 1\n');
  });

  it('generate_document writes output/{filename}, records a files row and replaces on a second call', async () => {
    const first = await call('generate_document', { filename: 'report.md', content: '# Report\n' });
    expect(first).toMatchObject({ success: true, path: 'output/report.md', size: 9, replaced: false, type: 'text/markdown' });
    const second = await call('generate_document', { filename: 'report.md', content: '# Report v2\n' });
    expect(second).toMatchObject({ success: true, replaced: true, size: 12 });
    expect(readFileSync(file('output/report.md'), 'utf8')).toBe('# Report v2\n');
    const { rows } = await db.query<{ size_bytes: number; content_type: string }>(
      "SELECT size_bytes, content_type FROM files WHERE session_id = $1 AND folder = 'output' AND filename = 'report.md'",
      [session.uuid],
    );
    expect(rows).toEqual([{ size_bytes: 12, content_type: 'text/markdown' }]);
  });

  it('say plainly when a path is the wrong kind or missing', async () => {
    const error = async (name: string, args: Record<string, unknown>) => (await call(name, args)).error;
    mkdirSync(file('output/sub'), { recursive: true });
    expect(await error('list_directory', { path: 'input/data.csv' })).toEqual({ code: 'FILE_5004', message: '"input/data.csv" is a file, not a folder.' });
    expect(await error('list_directory', { path: 'input/nope' })).toEqual({ code: 'FILE_5001', message: 'No file or folder at "input/nope".' });
    expect(await error('read_file', { path: 'input', head: null, tail: null })).toEqual({ code: 'FILE_5004', message: '"input" is a folder; use list_directory.' });
    expect(await error('search_files', { pattern: '  ', path: null, max_results: null })).toEqual({ code: 'FILE_5004', message: 'The pattern is empty.' });
    expect(await error('search_files', { pattern: '*', path: 'input/data.csv', max_results: null })).toEqual({ code: 'FILE_5004', message: '"input/data.csv" is a file, not a folder.' });
    expect(await error('edit_file', { path: 'output/sub', edits: [{ old_text: 'a', new_text: 'b' }] })).toEqual({ code: 'FILE_5004', message: '"output/sub" is a folder, not a file.' });
    expect(await error('generate_document', { filename: 'sub', content: 'x' })).toEqual({ code: 'FILE_5004', message: '"output/sub" is a folder.' });
    writeFileSync(file('output/one.txt'), 'one\n');
    expect(await error('edit_file', { path: 'output/one.txt', edits: [{ old_text: 'two', new_text: '2' }] })).toEqual({
      code: 'FILE_5001',
      message: 'No edit was applied: edit 1: old_text "two" was not found (not even ignoring whitespace).',
    });
  });

  it('search_files reads ./ patterns, lists matches in name order, skips temporary files and never follows links', async () => {
    mkdirSync(file('output/s'), { recursive: true });
    for (const name of ['b.md', 'a.md', 'C.md', '.pulp-tmp-x.md']) writeFileSync(file(`output/s/${name}`), '#');
    symlinkSync(file('output/s'), file('output/s/loop'));
    symlinkSync(file('output/s/a.md'), file('output/s/link.md'));
    const found = await call('search_files', { pattern: './*.md', path: 'output/s', max_results: null });
    expect(found).toMatchObject({ success: true, pattern: './*.md', path: 'output/s', matches: ['output/s/C.md', 'output/s/a.md', 'output/s/b.md'], count: 3, truncated: false });
    const exactlyAll = await call('search_files', { pattern: '*.md', path: 'output/s', max_results: 3 });
    expect(exactlyAll).toMatchObject({ count: 3, truncated: false });
  });

  it('edit_file and generate_document keep nested output files in the files table with their type', async () => {
    const made = await call('generate_document', { filename: 'notes/summary.txt', content: 'a\nb\n' });
    expect(made).toMatchObject({ success: true, path: 'output/notes/summary.txt', size: 4, replaced: false, type: 'text/plain' });
    const edited = await call('edit_file', {
      path: 'output/notes/summary.txt',
      edits: [
        { old_text: 'a', new_text: 'A' },
        { old_text: 'b', new_text: 'Bee' },
      ],
    });
    expect(edited).toMatchObject({ success: true, path: 'output/notes/summary.txt', edits_applied: 2, matches: ['exact', 'exact'] });
    const { rows } = await db.query<{ size_bytes: number; content_type: string }>(
      "SELECT size_bytes, content_type FROM files WHERE session_id = $1 AND folder = 'output' AND filename = 'notes/summary.txt'",
      [session.uuid],
    );
    expect(rows).toEqual([{ size_bytes: 6, content_type: 'text/plain' }]);
    expect(await call('generate_document', { filename: '', content: 'x' })).toMatchObject({ success: false, error: { code: 'FILE_5004' } });
  });

  it('an edit keeps the row of an input file in step, and a file outside input/ and output/ gets no row', async () => {
    writeFileSync(file('input/table.csv'), 'x,y\n');
    writeFileSync(file('scratch.txt'), 'draft\n');
    expect(await call('edit_file', { path: 'input/table.csv', edits: [{ old_text: 'x,y', new_text: 'x,y,z' }] })).toMatchObject({ success: true });
    expect(await call('edit_file', { path: 'scratch.txt', edits: [{ old_text: 'draft', new_text: 'final' }] })).toMatchObject({ success: true, path: 'scratch.txt' });
    expect(readFileSync(file('scratch.txt'), 'utf8')).toBe('final\n');
    const { rows } = await db.query<{ folder: string; filename: string; size_bytes: number }>(
      "SELECT folder, filename, size_bytes FROM files WHERE session_id = $1 AND filename IN ('table.csv', 'scratch.txt')",
      [session.uuid],
    );
    expect(rows).toEqual([{ folder: 'input', filename: 'table.csv', size_bytes: 6 }]);
  });

  it('files over 20 MiB are refused for reading and editing with a pointer to the code interpreter', async () => {
    const big = file('input/huge.log');
    writeFileSync(big, '');
    truncateSync(big, 20 * 1024 * 1024 + 1);
    expect((await call('read_file', { path: 'input/huge.log' })).error).toEqual({
      code: 'FILE_5004',
      message: `"input/huge.log" is ${20 * 1024 * 1024 + 1} bytes, too large to read here; process it with execute_python_code.`,
    });
    expect((await call('edit_file', { path: 'input/huge.log', edits: [{ old_text: 'a', new_text: 'b' }] })).error).toEqual({
      code: 'FILE_5004',
      message: '"input/huge.log" is too large to edit here.',
    });
    truncateSync(big, 20 * 1024 * 1024);
    // Exactly the limit is read (and found to be binary: the test file is all zero bytes).
    expect((await call('read_file', { path: 'input/huge.log', head: 1 })).error.message).toContain('is a binary file');
    rmSync(big);
  });

  it('a document needs a file name', async () => {
    for (const filename of ['', '.', './']) {
      expect((await call('generate_document', { filename, content: 'x' })).error).toEqual({ code: 'FILE_5004', message: 'Give the document a file name.' });
    }
  });

  it('arguments that do not match the schema come back as a readable VAL_2001 result', async () => {
    expect(await call('read_file', { path: 42 })).toMatchObject({ success: false, error: { code: 'VAL_2001' } });
  });

  it('a cancelled turn makes the tool throw instead of answering', async () => {
    const controller = new AbortController();
    controller.abort(new Error('user stop'));
    await expect(tools.get('list_directory')!.invoke(context, JSON.stringify({ path: '.' }), { signal: controller.signal })).rejects.toThrow('user stop');
  });
});
