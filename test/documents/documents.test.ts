/**
 * Uploaded documents end to end: a real server, real files of every format made by real
 * producers, the files list's conversion and indexing states, the converted text, limits (500
 * pages, a zip bomb) with the server answering its health probe meanwhile, and deleting a file.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { RunContext } from '@openai/agents';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWorkspaceTools } from '../../src/workspace/tools/workspace-tools.js';
import { apiClient } from '../support/api.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { makeSampleFiles, PAGE_FACTS, textPdf, type SampleFiles } from './sample-files.js';
import { uploadFile } from './upload.js';

describe('documents uploaded to a session', () => {
  let server: TestServer;
  let samples: SampleFiles;
  let sessionId: string;
  let sessionUuid: string;
  const api = () => apiClient(server.baseUrl);

  beforeAll(async () => {
    samples = await makeSampleFiles(await mkdtemp(path.join(tmpdir(), 'pulp-docs-')));
    for (const reason of samples.missing) console.warn(`documents.test.ts: ${reason}`);
    server = await startTestServer();
    const created = await api()('POST', '/sessions', { title: 'Docs' });
    sessionId = created.body.session_id as string;
    const { rows } = await server.pulp.db.query<{ id: string }>('SELECT id FROM sessions WHERE session_id = $1', [sessionId]);
    sessionUuid = rows[0]!.id;
    for (const [name, file] of Object.entries(samples.files)) {
      const res = await uploadFile(server.baseUrl, `/sessions/${sessionId}/files`, name, readFileSync(file));
      expect(res.status).toBe(201);
    }
    await server.pulp.documents.indexer.whenIdle();
  }, 180_000);

  afterAll(async () => {
    await server?.close();
    await rm(samples.dir, { recursive: true, force: true });
  });

  const listed = async () => {
    const res = await api()('GET', `/sessions/${sessionId}/files?folder=input`);
    return new Map((res.body.files as Array<{ name: string; conversion?: { status: string; error?: string }; indexing?: string | null }>).map((f) => [f.name, f]));
  };
  const textOf = async (name: string) => (await server.pulp.documents.text(sessionUuid, 'input', name))?.text ?? '';

  it('every readable format becomes text, and the file list says so', async () => {
    const files = await listed();
    const readable = Object.keys(samples.files).filter((n) => !['scan.pdf', 'locked.pdf', 'broken.docx', 'bomb.docx'].includes(n));
    for (const name of readable) {
      expect(files.get(name), name).toMatchObject({ conversion: { status: 'done' }, indexing: 'done' });
    }
    expect(await textOf('report.pdf')).toContain('--- page 2 ---\nChapter 2\nRefunds are paid within fourteen days');
    if (samples.files['policy.docx']) {
      for (const name of ['policy.docx', 'policy.html', 'policy.epub']) {
        const text = await textOf(name);
        expect(text, name).toMatch(/^## Trains$/m);
        expect(text, name).toMatch(/\| Hotel +\| 120 EUR +\|/);
      }
      expect(await textOf('policy.pptx')).toContain('Employees travel second class on trips under four hours.');
    }
    for (const name of ['table.xlsx', 'table.xls', 'table.ods'].filter((n) => samples.files[n])) {
      expect(await textOf(name), name).toContain('| Lyon | 522000 |');
    }
  });

  it('a scan, a password, a damaged Word file and a zip bomb get clear states and stay downloads', async () => {
    const files = await listed();
    expect(files.get('scan.pdf')?.conversion).toEqual({ status: 'no_text', error: expect.stringMatching(/no text layer/) });
    if (samples.files['locked.pdf']) expect(files.get('locked.pdf')?.conversion).toEqual({ status: 'failed', error: expect.stringMatching(/password-protected/) });
    if (samples.files['broken.docx']) expect(files.get('broken.docx')?.conversion).toEqual({ status: 'failed', error: expect.stringMatching(/DOCX file is damaged/) });
    expect(files.get('bomb.docx')?.conversion).toEqual({ status: 'failed', error: expect.stringMatching(/zip bomb/) });
    expect(files.get('bomb.docx')?.indexing ?? null).toBeNull();
    const download = await fetch(`${server.baseUrl}/api/v1/sessions/${sessionId}/files/input/scan.pdf`);
    expect(download.status).toBe(200);
    expect(Buffer.from(await download.arrayBuffer()).equals(readFileSync(samples.files['scan.pdf']!))).toBe(true);
  });

  it('a 500-page PDF converts with every page marker while the health probe answers in under 100 ms', async () => {
    const pages = Array.from({ length: 500 }, (_, i) => [`Page heading ${i + 1}`, `Inventory line ${i + 1}: ${PAGE_FACTS[i % 3]}`]);
    const res = await uploadFile(server.baseUrl, `/sessions/${sessionId}/files`, 'big.pdf', await textPdf(pages));
    expect(res.status).toBe(201);
    const done = server.pulp.documents.indexer.whenIdle();
    let finished = false;
    void done.then(() => (finished = true));
    const probes: number[] = [];
    while (!finished) {
      const started = performance.now();
      const health = await fetch(`${server.baseUrl}/api/v1/health/live`);
      probes.push(performance.now() - started);
      expect(health.status).toBe(200);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(probes.length).toBeGreaterThan(3);
    if (process.env.SHOW_PROBES || Math.max(...probes) >= 100) console.warn(`documents.test.ts: health probes took ${probes.map((p) => p.toFixed(0)).join(', ')} ms`);
    expect(Math.max(...probes)).toBeLessThan(100);
    const text = await textOf('big.pdf');
    expect(text).toContain('--- page 500 ---\nPage heading 500');
    expect(text.match(/^--- page \d+ ---$/gm)).toHaveLength(500);
  }, 120_000);

  it('a files-only type is listed as unsupported and a deleted file takes its chunks along', async () => {
    const up = await uploadFile(server.baseUrl, `/sessions/${sessionId}/files`, 'photo.bin', new Uint8Array([1, 2, 3]));
    expect(up.status).toBe(201);
    expect((await listed()).get('photo.bin')?.conversion?.status).toBe('unsupported');
    const chunks = async () =>
      (await server.pulp.db.query<{ n: number }>("SELECT count(*)::int AS n FROM document_chunks c JOIN documents d ON d.id = c.document_id WHERE d.filename = 'report.pdf'")).rows[0]!.n;
    expect(await chunks()).toBeGreaterThan(0);
    const del = await fetch(`${server.baseUrl}/api/v1/sessions/${sessionId}/files/input/report.pdf`, { method: 'DELETE' });
    expect(del.status).toBe(200);
    expect(await chunks()).toBe(0);
    const search = await api()('GET', `/sessions/${sessionId}/documents/search?q=${encodeURIComponent('warehouse pallets oranges')}`);
    expect(search.body.results.map((r: { file: string }) => r.file)).not.toContain('input/report.pdf');
  });

  it('a document left pending by a stopped server is converted and indexed at the next start', async () => {
    const root = path.join(server.dataDir, 'sessions', sessionId, 'input');
    writeFileSync(path.join(root, 'left.md'), '# Left behind\n\nThe generator was tested on Friday.\n');
    await server.pulp.db.query("INSERT INTO documents (session_id, folder, filename, size_bytes) VALUES ($1, 'input', 'left.md', 50)", [sessionUuid]);
    expect((await listed()).get('left.md')?.conversion?.status).toBe('pending');
    await server.pulp.documents.start();
    await server.pulp.documents.indexer.whenIdle();
    expect((await listed()).get('left.md')).toMatchObject({ conversion: { status: 'done' }, indexing: 'done' });
  });

  it('read_file gives the agent the converted text of a PDF or Word file, and says why when there is none', async () => {
    const tools = createWorkspaceTools({
      root: path.join(server.dataDir, 'sessions', sessionId),
      sessionUuid,
      db: server.pulp.db,
      sandbox: undefined,
      documents: {
        text: (folder, filename) => server.pulp.documents.text(sessionUuid, folder, filename),
        search: (query, limit) => server.pulp.documents.search({ id: sessionUuid, user_id: '' }, query, limit),
      },
    });
    const read = async (file: string, head?: number) =>
      JSON.parse(String(await tools.find((t) => t.name === 'read_file')!.invoke(new RunContext(), JSON.stringify({ path: file, head: head ?? null, tail: null })))) as Record<string, unknown>;
    expect(await read('input/big.pdf', 3)).toMatchObject({ success: true, content: '--- page 1 ---\nPage heading 1\nInventory line 1: The warehouse in Lyon stores 4200 pallets of oranges.' });
    if (samples.files['policy.docx']) expect(String((await read('input/policy.docx')).content)).toContain('Employees travel second class');
    expect(await read('input/scan.pdf')).toMatchObject({ success: false, error: { code: 'FILE_5011', message: expect.stringContaining('no text layer') } });
    // Plain text files are still read from disk as they are.
    expect(await read('input/notes.txt')).toMatchObject({ success: true, content: 'Plain notes: the boiler was serviced in March.\n' });
  });
});
