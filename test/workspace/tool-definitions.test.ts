/**
 * The built-in tools as the model sees them — names, descriptions, JSON schemas, strictness — are
 * part of what the agent can do, so they are compared with the reviewed copy in
 * `tool-definitions.snapshot.json`. Update it with
 * `npx vitest run test/workspace/tool-definitions.test.ts -u` when a change is meant.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Queryable } from '../../src/db/database.js';
import { createWorkspaceTools } from '../../src/workspace/tools/workspace-tools.js';

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
