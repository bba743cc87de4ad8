/**
 * The built-in tools as the model sees them — names, descriptions, JSON schemas, strictness — are
 * part of what the agent can do, so they are compared with the reviewed copy in
 * `tool-definitions.snapshot.json`. Update it with
 * `npx vitest run test/workspace/tool-definitions.test.ts -u` when a change is meant.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { RunContext } from '@openai/agents';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Queryable } from '../../src/db/database.js';
import { migrate } from '../../src/db/migrate.js';
import { SandboxBusyError, SandboxUnavailableError, type RunOptions, type SandboxResult } from '../../src/workspace/sandbox/sandbox.js';
import { createWorkspaceTools, type WorkspaceTool } from '../../src/workspace/tools/workspace-tools.js';
import { createWorkspace } from '../../src/workspace/workspace.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { createSessionRow, createUser, tempDirectory, type TestSession } from './support.js';

const root = mkdtempSync(path.join(tmpdir(), 'pulp-tool-defs-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

// Building the definitions touches neither the database nor the sandbox.
const unused = {} as Queryable;
const sandbox = { run: async () => ({ stdout: '', stderr: '', exit_code: 0, files: [] }) } as never;

describe('the built-in tool definitions', () => {
  it('are the reviewed ones, with execute_python_code only when a sandbox runs', async () => {
    const withPython = createWorkspaceTools({ root, sessionUuid: 'u', db: unused, sandbox });
    const without = createWorkspaceTools({ root, sessionUuid: 'u', db: unused, sandbox: undefined });
    expect(without.map((t) => t.name)).toEqual(['list_directory', 'read_file', 'search_files', 'edit_file', 'generate_document']);
    expect(withPython.map((t) => t.name)).toEqual([...without.map((t) => t.name), 'execute_python_code']);
    const shown = withPython.map((t) => ({ name: t.name, description: t.description, strict: t.strict, parameters: t.parameters }));
    await expect(`${JSON.stringify(shown, null, 2)}\n`).toMatchFileSnapshot('./tool-definitions.snapshot.json');
  });
});

/**
 * These calls go through definitions built as the snapshot above shows them: each runs its own
 * tool, in the scope of the session it was handed to, with the defaults a model's `null`
 * arguments stand for.
 */
describe('each built-in tool, called as the SDK calls it', () => {
  let database: TestDatabase;
  let dir: string;
  let session: TestSession;
  const runs: Array<{ code: string; options: RunOptions }> = [];
  let sandboxAnswer = async (): Promise<SandboxResult> => ({ success: true, stdout: '42\n', stderr: '', exit_code: 0, files: [], execution_time_ms: 5 });
  const fakeSandbox = {
    run: async (code: string, options: RunOptions) => {
      runs.push({ code, options });
      return sandboxAnswer();
    },
  };
  const context = new RunContext();
  const invoke = async (tools: WorkspaceTool[], name: string, args: unknown, signal?: AbortSignal) =>
    JSON.parse(String(await tools.find((t) => t.name === name)!.invoke(context, JSON.stringify(args), signal ? { signal } : undefined))) as Record<string, unknown>;

  beforeAll(async () => {
    database = await createTestDatabase();
    await migrate(database.db);
    dir = tempDirectory('pulp-tool-calls-');
    session = await createSessionRow(database.db, createWorkspace(dir), await createUser(database.db));
    writeFileSync(path.join(session.root, 'input', 'data.csv'), 'a,b\n1,2\n');
  });
  afterAll(async () => {
    await database?.drop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const toolsOf = (extra: Partial<Parameters<typeof createWorkspaceTools>[0]> = {}) =>
    createWorkspaceTools({ root: session.root, sessionUuid: session.uuid, db: database.db, sandbox: fakeSandbox, ...extra });

  it('the file tools do their work, and null optional arguments mean the session root and 100 results', async () => {
    const tools = toolsOf();
    expect(await invoke(tools, 'list_directory', { path: null })).toMatchObject({ success: true, path: '.' });
    expect(await invoke(tools, 'list_directory', {})).toMatchObject({ success: true, path: '.' });
    expect(await invoke(tools, 'read_file', { path: 'input/data.csv', head: null, tail: null })).toMatchObject({ success: true, content: 'a,b\n1,2\n' });
    expect(await invoke(tools, 'search_files', { pattern: '*.csv', path: null, max_results: null })).toMatchObject({ success: true, matches: ['input/data.csv'] });
    expect(await invoke(tools, 'generate_document', { filename: 'r.md', content: '# r\n' })).toMatchObject({ success: true, path: 'output/r.md' });
    expect(await invoke(tools, 'edit_file', { path: 'output/r.md', edits: [{ old_text: '# r', new_text: '# report' }] })).toMatchObject({ success: true });
    expect(readFileSync(path.join(session.root, 'output', 'r.md'), 'utf8')).toBe('# report\n');
  });

  it('execute_python_code passes the configured limits only when set, and syncs output/ rows', async () => {
    runs.length = 0;
    await invoke(toolsOf(), 'execute_python_code', { code: 'print(1)' });
    await invoke(toolsOf({ codeTimeoutMs: 1500, codeMemoryMb: 64 }), 'execute_python_code', { code: 'print(2)' });
    expect(runs.map((r) => r.options)).toEqual([{ root: session.root }, { root: session.root, timeoutMs: 1500, memoryMb: 64 }]);
    writeFileSync(path.join(session.root, 'output', 'made.txt'), 'x');
    expect(await invoke(toolsOf(), 'execute_python_code', { code: 'x' })).toMatchObject({ stdout: '42\n', exit_code: 0 });
    const { rows } = await database.db.query<{ filename: string }>("SELECT filename FROM files WHERE session_id = $1 AND folder = 'output' ORDER BY filename", [session.uuid]);
    expect(rows.map((r) => r.filename)).toContain('made.txt');
  });

  it('execute_python_code turns a missing or busy sandbox and a bad limit into results the model reads', async () => {
    const answers: Array<[Error, string, string]> = [
      [new SandboxUnavailableError('The code interpreter is not available here.'), 'EXT_7001', 'The code interpreter is not available here.'],
      [new SandboxBusyError('Every code interpreter slot is busy.'), 'EXT_7001', 'Every code interpreter slot is busy.'],
      [new RangeError('memoryMb must be at least 32'), 'VAL_2001', 'memoryMb must be at least 32'],
    ];
    for (const [error, code, message] of answers) {
      sandboxAnswer = async () => {
        throw error;
      };
      expect(await invoke(toolsOf(), 'execute_python_code', { code: 'x' })).toEqual({ success: false, error: { code, message } });
    }
    sandboxAnswer = async () => {
      throw new Error('/srv/internal/path exploded');
    };
    expect(await invoke(toolsOf(), 'execute_python_code', { code: 'x' })).toEqual({ success: false, error: { code: 'INT_9001', message: 'The file operation failed.' } });
  });

  it('a stopped turn throws its reason out of execute_python_code, even when the sandbox answered with an error', async () => {
    const controller = new AbortController();
    sandboxAnswer = async () => {
      controller.abort(new Error('user stop'));
      throw new SandboxBusyError('gave up waiting');
    };
    await expect(invoke(toolsOf(), 'execute_python_code', { code: 'x' }, controller.signal)).rejects.toThrow('user stop');
    expect(runs.at(-1)?.options.signal).toBe(controller.signal);
  });

  it('arguments that fail the schema come back as a readable result, and the turn goes on', async () => {
    const out = await invoke(toolsOf(), 'edit_file', { path: 'output/r.md', edits: [{ old_text: 1 }] });
    expect(out).toEqual({ success: false, error: { code: 'VAL_2001', message: expect.stringMatching(/^Invalid tool arguments: \S/) } });
  });
});
