/**
 * `search_files` with `contains` looks inside files: plain text as it is, and PDFs through the
 * text they were converted to at upload (src/documents), each match with its line and page. A
 * real PDF is converted by the real converter into the `documents` table first.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { RunContext } from '@openai/agents';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/database.js';
import { Documents } from '../../src/documents/documents.js';
import { createWorkspaceTools, type WorkspaceTool } from '../../src/workspace/tools/workspace-tools.js';
import { createWorkspace } from '../../src/workspace/workspace.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { PAGE_FACTS, textPdf } from '../documents/sample-files.js';
import { createSessionRow, createUser, tempDirectory, type TestSession } from './support.js';

describe('search_files inside documents', () => {
  let database: TestDatabase;
  let db: Database;
  let dir: string;
  let session: TestSession;
  let documents: Documents;
  let tools: Map<string, WorkspaceTool>;

  const search = async (args: Record<string, unknown>) => {
    const result = await tools.get('search_files')!.invoke(new RunContext(), JSON.stringify({ pattern: '*', path: null, max_results: null, contains: null, ...args }));
    return JSON.parse(String(result)) as { success: boolean; matches: string[]; count: number; truncated: boolean; error?: { code: string } };
  };
  const store = async (name: string, bytes: Uint8Array | string) => {
    writeFileSync(path.join(session.root, 'input', name), bytes);
    await documents.fileStored({ sessionUuid: session.uuid }, 'input', name, Buffer.byteLength(bytes));
  };

  beforeAll(async () => {
    database = await createTestDatabase();
    db = database.db;
    dir = tempDirectory('pulp-search-docs-');
    session = await createSessionRow(db, createWorkspace(dir), await createUser(db));
    mkdirSync(path.join(session.root, 'input'), { recursive: true });
    documents = new Documents({ db, logger: pino({ level: 'silent' }), dataDir: dir, sessionRoot: () => session.root });
    // Page 2 and page 3 each carry one fact; "pallets" is on page 1 only.
    await store('report.pdf', await textPdf(PAGE_FACTS.map((fact, i) => [`Chapter ${i + 1}`, fact])));
    await store('notes.md', '# Notes\n\nOrder more pallets on Monday.\n');
    await documents.indexer.whenIdle();
    tools = new Map(
      createWorkspaceTools({
        root: session.root,
        sessionUuid: session.uuid,
        db,
        sandbox: undefined,
        documents: {
          text: (folder, filename) => documents.text(session.uuid, folder, filename),
          search: (query, limit) => documents.search({ id: session.uuid, user_id: session.userId }, query, limit),
        },
      }).map((t) => [t.name, t]),
    );
  }, 60_000);

  afterAll(async () => {
    await documents?.converter.close();
    await database?.drop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('finds a phrase on the page of a PDF it is on, and in a text file by its line', async () => {
    const found = await search({ contains: 'PALLETS' });
    expect(found).toMatchObject({ success: true, truncated: false, count: 2 });
    expect(found.matches).toEqual([
      'input/notes.md:3: Order more pallets on Monday.',
      expect.stringMatching(/^input\/report\.pdf:\d+ \(p\. 1\): The warehouse in Lyon stores 4200 pallets of oranges\.$/),
    ]);
    const night = await search({ contains: 'night shift', pattern: '*.pdf' });
    expect(night.matches).toEqual([expect.stringMatching(/^input\/report\.pdf:\d+ \(p\. 3\): The night shift starts at 22:00/)]);
  });

  it('the line number is the one read_file shows for the converted text', async () => {
    const [match] = (await search({ contains: 'Refunds' })).matches;
    const line = Number(/^input\/report\.pdf:(\d+) \(p\. 2\)/.exec(match!)?.[1]);
    const read = JSON.parse(String(await tools.get('read_file')!.invoke(new RunContext(), JSON.stringify({ path: 'input/report.pdf', head: line, tail: null }))));
    expect(String(read.content).split('\n').at(-1)).toContain('Refunds are paid within fourteen days');
  });

  it('without contains, matches file names as before; a phrase in no file finds nothing', async () => {
    expect((await search({ pattern: '*.pdf' })).matches).toEqual(['input/report.pdf']);
    expect(await search({ contains: 'glaciers' })).toMatchObject({ success: true, matches: [], count: 0, truncated: false });
    expect(await search({ contains: '   ' })).toMatchObject({ success: false, error: { code: 'FILE_5004' } });
    expect(await search({ contains: 'x'.repeat(201) })).toMatchObject({ success: false, error: { code: 'FILE_5004' } });
  });

  it('keeps max_results: the extra matches are cut and flagged', async () => {
    const limited = await search({ contains: 'e', max_results: 2 });
    expect(limited).toMatchObject({ count: 2, truncated: true });
  });
});
