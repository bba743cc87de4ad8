import { mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { RunContext } from '@openai/agents';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWorkspaceTools, type WorkspaceTool } from '../../src/workspace/tools/workspace-tools.js';
import { rawRequest, startFilesServer, upload, type FilesTestServer, type TestSession } from './support.js';

const PASSWD_MARK = 'root:';

/** Each hostile path as the model or a JSON client would send it, and as raw URL text. */
const CORPUS: Array<{ label: string; text: string; url: string }> = [
  { label: '../ traversal', text: '../../../etc/passwd', url: '../../../etc/passwd' },
  { label: '..%2f traversal', text: '..%2f..%2f..%2fetc%2fpasswd', url: '..%2f..%2f..%2fetc%2fpasswd' },
  { label: '%2e%2e/ traversal', text: '%2e%2e/%2e%2e/%2e%2e/etc/passwd', url: '%2e%2e/%2e%2e/%2e%2e/etc/passwd' },
  { label: 'double-encoded traversal', text: '%2e%2e%2f%2e%2e%2fetc%2fpasswd', url: '%252e%252e%252f%252e%252e%252fetc%252fpasswd' },
  { label: 'absolute path', text: '/etc/passwd', url: '%2Fetc%2Fpasswd' },
  { label: 'NUL byte', text: 'data.csv\0.png', url: 'data.csv%00.png' },
  { label: 'Windows separators', text: '..\\..\\..\\etc\\passwd', url: '..%5C..%5C..%5Cetc%5Cpasswd' },
  { label: 'overlong name', text: 'a'.repeat(300), url: 'a'.repeat(300) },
  { label: 'a name of only dots', text: '...', url: '...' },
];

describe('the path jail against hostile paths', () => {
  let server: FilesTestServer;
  let session: TestSession;
  let tools: Map<string, WorkspaceTool>;
  const context = new RunContext();
  const auth = () => ({ 'x-test-user': session.userId });
  const url = (suffix: string) => `/api/v1/sessions/${session.publicId}/files${suffix}`;
  let canary: string;

  beforeAll(async () => {
    server = await startFilesServer();
    session = await server.newSession();
    mkdirSync(server.outsideDir, { recursive: true });
    canary = path.join(server.outsideDir, 'canary.txt');
    writeFileSync(canary, 'outside');
    writeFileSync(path.join(session.root, 'input', 'data.csv'), 'a,b\n');
    // What a code interpreter run could plant in output/.
    symlinkSync('/etc/passwd', path.join(session.root, 'output', 'evil'));
    symlinkSync(server.outsideDir, path.join(session.root, 'output', 'evildir'));
    symlinkSync(canary, path.join(session.root, 'output', 'evilfile'));
    tools = new Map(createWorkspaceTools({ root: session.root, sessionUuid: session.uuid, db: server.db, sandbox: undefined }).map((t) => [t.name, t]));
  });
  afterAll(async () => {
    await server?.close();
  });

  const expectOutsideUntouched = () => {
    expect(readdirSync(server.outsideDir)).toEqual(['canary.txt']);
    expect(readFileSync(canary, 'utf8')).toBe('outside');
    expect(readdirSync(server.tempDir).sort()).toEqual(['data', 'outside']);
    expect(readdirSync(server.dataDir)).toEqual(['sessions']);
  };

  const expectRefused = (res: { status: number; body: Buffer; json(): { error?: { code: string } } }, viaUrl = false, text = '') => {
    expect(res.body.toString()).not.toContain(PASSWD_MARK);
    // The HTTP layer refuses U+0000 in any URL parameter (422 VAL_2001) before the jail sees it.
    const [status, code] = viaUrl && text.includes('\0') ? [422, 'VAL_2001'] : [400, 'FILE_5004'];
    expect(res.status).toBe(status);
    expect(res.json().error?.code).toBe(code);
  };

  describe.each(CORPUS)('$label', ({ text, url: raw }) => {
    it('is refused by download, delete and listing with FILE_5004 (a NUL with VAL_2001)', async () => {
      expectRefused(await rawRequest(server.port, 'GET', url(`/input/${raw}`), auth()), true, text);
      expectRefused(await rawRequest(server.port, 'DELETE', url(`/input/${raw}`), auth()), true, text);
      expectRefused(await rawRequest(server.port, 'GET', url(`?folder=input&path=${encodeURIComponent(text)}`), auth()), true, text);
      expectRefused(await rawRequest(server.port, 'GET', url(`?folder=${encodeURIComponent(text)}`), auth()), true, text);
      expect(readFileSync(path.join(session.root, 'input', 'data.csv'), 'utf8')).toBe('a,b\n');
      expectOutsideUntouched();
    });

    it('is refused by upload as a sub-folder or folder, and nothing is written', async () => {
      expectRefused(await upload(server, session, [{ name: 'file', filename: 'x.txt', data: Buffer.from('x') }, { name: 'path', value: text }]));
      expectRefused(await upload(server, session, [{ name: 'file', filename: 'x.txt', data: Buffer.from('x') }, { name: 'folder', value: text }]));
      expect(readdirSync(session.root).sort()).toEqual(['input', 'output']);
      expect(readdirSync(path.join(session.root, 'input'))).toEqual(['data.csv']);
      expectOutsideUntouched();
    });

    it('is refused by every file tool with a FILE_5004 result', async () => {
      const calls: Array<[string, Record<string, unknown>]> = [
        ['list_directory', { path: text }],
        ['read_file', { path: text }],
        ['search_files', { pattern: '*', path: text }],
        ['search_files', { pattern: text }],
        ['edit_file', { path: text, edits: [{ old_text: 'a', new_text: 'b' }] }],
        ['generate_document', { filename: text, content: 'pwned' }],
      ];
      for (const [name, args] of calls) {
        const out = String(await tools.get(name)!.invoke(context, JSON.stringify(args)));
        expect(out).not.toContain(PASSWD_MARK);
        expect({ name, result: JSON.parse(out) }).toMatchObject({ name, result: { success: false, error: { code: 'FILE_5004' } } });
      }
      expectOutsideUntouched();
    });
  });

  it('upload file names with separators, NUL, only dots or over 255 bytes are refused with FILE_5004', async () => {
    for (const filename of ['../../evil.txt', '..\\evil.txt', 'a/b.txt', '..', '...', 'x'.repeat(256), 'nul\0.txt', '..%2fevil.txt']) {
      expectRefused(await upload(server, session, [{ name: 'file', filename, data: Buffer.from('x') }]));
    }
    expect(readdirSync(path.join(session.root, 'input'))).toEqual(['data.csv']);
    expectOutsideUntouched();
  });

  it('a symlink planted in output/ that points at /etc/passwd is refused by download and read_file, and hidden from listings', async () => {
    expectRefused(await rawRequest(server.port, 'GET', url('/output/evil'), auth()));
    const read = JSON.parse(String(await tools.get('read_file')!.invoke(context, JSON.stringify({ path: 'output/evil' }))));
    expect(read).toMatchObject({ success: false, error: { code: 'FILE_5004' } });
    const listed = (await rawRequest(server.port, 'GET', url('?folder=output'), auth())).json() as { files: Array<{ name: string }> };
    expect(listed.files.map((f) => f.name)).toEqual([]);
    const toolList = JSON.parse(String(await tools.get('list_directory')!.invoke(context, JSON.stringify({ path: 'output' }))));
    expect(toolList.entries).toEqual([]);
  });

  it('symlinks to a folder or file outside are refused by every route and tool except deleting the link itself, and nothing outside changes', async () => {
    expectRefused(await rawRequest(server.port, 'GET', url('/output/evildir/canary.txt'), auth()));
    expectRefused(await rawRequest(server.port, 'GET', url('?folder=output&path=evildir'), auth()));
    expectRefused(await rawRequest(server.port, 'DELETE', url('/output/evildir/canary.txt'), auth()));
    expectRefused(await upload(server, session, [{ name: 'file', filename: 'x.txt', data: Buffer.from('x') }, { name: 'folder', value: 'output' }, { name: 'path', value: 'evildir' }]));
    const calls: Array<[string, Record<string, unknown>]> = [
      ['list_directory', { path: 'output/evildir' }],
      ['read_file', { path: 'output/evilfile' }],
      ['read_file', { path: 'output/evildir/canary.txt' }],
      ['search_files', { pattern: '*', path: 'output/evildir' }],
      ['edit_file', { path: 'output/evilfile', edits: [{ old_text: 'outside', new_text: 'pwned' }] }],
      ['generate_document', { filename: 'evildir/new.txt', content: 'pwned' }],
      ['generate_document', { filename: 'evil', content: 'pwned' }],
    ];
    for (const [name, args] of calls) {
      const result = JSON.parse(String(await tools.get(name)!.invoke(context, JSON.stringify(args))));
      expect({ name, result }).toMatchObject({ name, result: { success: false, error: { code: 'FILE_5004' } } });
    }
    expectOutsideUntouched();
    // Deleting the links themselves is allowed, and removes only the links.
    for (const link of ['evildir', 'evilfile']) expect((await rawRequest(server.port, 'DELETE', url(`/output/${link}`), auth())).status).toBe(200);
    expectOutsideUntouched();
  });
});
