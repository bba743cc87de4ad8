import { existsSync, lstatSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rawRequest, startFilesServer, type FilesTestServer, type TestSession } from './support.js';

describe('deleting symbolic links through the files API', () => {
  let server: FilesTestServer;
  let session: TestSession;
  const auth = () => ({ 'x-test-user': session.userId });
  const filesUrl = (suffix: string) => `/api/v1/sessions/${session.publicId}/files${suffix}`;
  const isThere = (p: string) => {
    try {
      lstatSync(p);
      return true;
    } catch {
      return false;
    }
  };

  beforeAll(async () => {
    server = await startFilesServer();
    session = await server.newSession();
    mkdirSync(server.outsideDir, { recursive: true });
  });
  afterAll(() => server?.close());

  it('removes a link the code left in output/, wherever it points, and never its target', async () => {
    const output = path.join(session.root, 'output');
    const outsideFile = path.join(server.outsideDir, 'host-secret.txt');
    writeFileSync(outsideFile, 'host secret');
    writeFileSync(path.join(output, 'real.txt'), 'real');
    mkdirSync(path.join(output, 'sub'));
    writeFileSync(path.join(output, 'sub', 'deep.txt'), 'deep');
    const links: Record<string, string> = {
      'to-passwd': '/etc/passwd',
      'to-host-file': outsideFile,
      'to-outside-folder': server.outsideDir,
      dangling: '/nonexistent/target',
      'to-sibling': 'real.txt',
      'to-sub': 'sub',
      'to-output': '.',
      'to-input': '../input',
      loop: 'loop',
    };
    for (const [name, target] of Object.entries(links)) symlinkSync(target, path.join(output, name));
    symlinkSync('../real.txt', path.join(output, 'sub', 'nested-link'));

    for (const name of [...Object.keys(links), 'sub/nested-link']) {
      const res = await rawRequest(server.port, 'DELETE', filesUrl(`/output/${name}`), auth());
      expect(`${name} ${res.status}`).toBe(`${name} 200`);
      expect(res.json()).toEqual({ success: true });
      expect(isThere(path.join(output, name)), name).toBe(false);
    }
    expect(readFileSync(outsideFile, 'utf8')).toBe('host secret');
    expect(readFileSync('/etc/passwd', 'utf8')).toContain('root:');
    expect(readFileSync(path.join(output, 'real.txt'), 'utf8')).toBe('real');
    expect(readFileSync(path.join(output, 'sub', 'deep.txt'), 'utf8')).toBe('deep');
    expect(existsSync(path.join(session.root, 'input'))).toBe(true);
  });

  it('still refuses a path that goes through a link out of the workspace, and a download of a link that leads out', async () => {
    const output = path.join(session.root, 'output');
    writeFileSync(path.join(server.outsideDir, 'victim.txt'), 'victim');
    symlinkSync(server.outsideDir, path.join(output, 'escape'));
    const through = await rawRequest(server.port, 'DELETE', filesUrl('/output/escape/victim.txt'), auth());
    expect(through.status).toBe(400);
    expect(through.json().error).toMatchObject({ code: 'FILE_5004', message: 'The path leads outside the workspace.' });
    expect(readFileSync(path.join(server.outsideDir, 'victim.txt'), 'utf8')).toBe('victim');
    const download = await rawRequest(server.port, 'GET', filesUrl('/output/escape'), auth());
    expect(download.status).toBe(400);
    // The link itself can go.
    expect((await rawRequest(server.port, 'DELETE', filesUrl('/output/escape'), auth())).status).toBe(200);
    expect(isThere(path.join(output, 'escape'))).toBe(false);
  });

  it("cannot delete another user's link: 404 and the link stays", async () => {
    const other = await server.newSession(await server.newUser());
    symlinkSync('/etc/passwd', path.join(other.root, 'output', 'theirs'));
    const res = await rawRequest(server.port, 'DELETE', `/api/v1/sessions/${other.publicId}/files/output/theirs`, auth());
    expect(res.status).toBe(404);
    expect(isThere(path.join(other.root, 'output', 'theirs'))).toBe(true);
  });
});
