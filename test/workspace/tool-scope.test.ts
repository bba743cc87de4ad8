import { rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { RunContext } from '@openai/agents';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate } from '../../src/db/migrate.js';
import type { RunOptions, SandboxResult } from '../../src/workspace/sandbox/sandbox.js';
import { createWorkspaceTools } from '../../src/workspace/tools/workspace-tools.js';
import { createWorkspace } from '../../src/workspace/workspace.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { createSessionRow, createUser, tempDirectory, type TestSession } from './support.js';

describe('workspace tools shared by many sessions', () => {
  let database: TestDatabase;
  let dir: string;
  let a: TestSession;
  let b: TestSession;

  beforeAll(async () => {
    database = await createTestDatabase();
    await migrate(database.db);
    dir = tempDirectory('pulp-scope-');
    const workspace = createWorkspace(dir);
    const user = await createUser(database.db);
    a = await createSessionRow(database.db, workspace, user);
    b = await createSessionRow(database.db, workspace, user);
    writeFileSync(path.join(a.root, 'input', 'only-in-a.txt'), 'a');
    writeFileSync(path.join(b.root, 'input', 'only-in-b.txt'), 'b');
  });
  afterAll(async () => {
    await database.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('each session’s tools see only that session’s files, also when called at the same time', async () => {
    const toolsOf = (s: TestSession) => createWorkspaceTools({ root: s.root, sessionUuid: s.uuid, db: database.db, sandbox: undefined });
    const list = (s: TestSession) => toolsOf(s).find((t) => t.name === 'search_files')!;
    const context = new RunContext();
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => {
        const s = i % 2 === 0 ? a : b;
        return list(s).invoke(context, JSON.stringify({ pattern: '*.txt' })).then((r) => ({ s, found: JSON.stringify(r) }));
      }),
    );
    for (const { s, found } of results) {
      expect(found).toContain(s === a ? 'only-in-a.txt' : 'only-in-b.txt');
      expect(found).not.toContain(s === a ? 'only-in-b.txt' : 'only-in-a.txt');
    }
    expect(toolsOf(a).map((t) => t.name)).toEqual(['list_directory', 'read_file', 'search_files', 'edit_file', 'generate_document']);
  });

  it("runs each session's code as its owner's, so the sandbox counts it against that user's share", async () => {
    const seen: Array<string | undefined> = [];
    const recording = {
      run: (_code: string, options: RunOptions): Promise<SandboxResult> => {
        seen.push(options.owner);
        return Promise.resolve({ success: true, stdout: '', stderr: '', exit_code: 0, files: [], execution_time_ms: 1 });
      },
    };
    const context = new RunContext();
    for (const [s, owner] of [[a, 'owner-a'], [b, 'owner-b']] as const) {
      const python = createWorkspaceTools({ root: s.root, sessionUuid: s.uuid, owner, db: database.db, sandbox: recording }).find((t) => t.name === 'execute_python_code')!;
      await python.invoke(context, JSON.stringify({ code: 'print(1)' }));
    }
    expect(seen).toEqual(['owner-a', 'owner-b']);
  });
});
