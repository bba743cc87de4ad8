import { existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rawRequest, startFilesServer, upload, type FilesTestServer, type TestSession } from './support.js';

const LIMIT = 256 * 1024;

describe('files REST API', () => {
  let server: FilesTestServer;
  let session: TestSession;
  const auth = () => ({ 'x-test-user': session.userId });
  const filesUrl = (suffix = '') => `/api/v1/sessions/${session.publicId}/files${suffix}`;

  beforeAll(async () => {
    server = await startFilesServer({ maxUploadBytes: LIMIT });
    session = await server.newSession();
  });
  afterAll(async () => {
    await server.close();
  });

  const rowsFor = async (s: TestSession) =>
    (await server.db.query<{ folder: string; filename: string; size_bytes: number; content_type: string }>(
      'SELECT folder, filename, size_bytes, content_type FROM files WHERE session_id = $1 ORDER BY folder, filename',
      [s.uuid],
    )).rows;

  it('an uploaded file lands in input/, gets a files row, and is listed', async () => {
    const res = await upload(server, session, [{ name: 'file', filename: 'data.csv', data: Buffer.from('a,b\n1,2\n') }]);
    expect(res.status).toBe(201);
    expect(res.json()).toEqual({ name: 'data.csv', size: 8, folder: 'input', path: 'data.csv', content_type: 'text/csv' });
    expect(readFileSync(path.join(session.root, 'input', 'data.csv'), 'utf8')).toBe('a,b\n1,2\n');
    expect(await rowsFor(session)).toEqual([{ folder: 'input', filename: 'data.csv', size_bytes: 8, content_type: 'text/csv' }]);

    const list = await rawRequest(server.port, 'GET', filesUrl('?folder=input'), auth());
    expect(list.status).toBe(200);
    const body = list.json() as { files: Array<Record<string, unknown>>; folder: string; count: number };
    expect(body.folder).toBe('input');
    expect(body.count).toBe(1);
    expect(body.files[0]).toMatchObject({ name: 'data.csv', type: 'file', size: 8, path: 'data.csv' });
    expect(Number.isNaN(Date.parse(String(body.files[0]!.modified)))).toBe(false);
  });

  it('the folder field (sent after the file) and a sub-folder path decide where the file goes; listing shows sub-folders', async () => {
    const res = await upload(server, session, [
      { name: 'file', filename: 'notes.md', data: Buffer.from('# hi\n') },
      { name: 'folder', value: 'output' },
      { name: 'path', value: 'reports/2024' },
    ]);
    expect(res.status).toBe(201);
    expect(res.json()).toMatchObject({ folder: 'output', path: 'reports/2024/notes.md' });
    const top = (await rawRequest(server.port, 'GET', filesUrl('?folder=output'), auth())).json() as { files: Array<{ name: string; type: string; path: string }> };
    expect(top.files).toContainEqual(expect.objectContaining({ name: 'reports', type: 'folder', path: 'reports' }));
    const sub = (await rawRequest(server.port, 'GET', filesUrl('?folder=output&path=reports%2F2024'), auth())).json() as { files: Array<{ path: string }> };
    expect(sub.files.map((f) => f.path)).toEqual(['reports/2024/notes.md']);
  });

  it('a download streams the bytes with the content type and an RFC 6266 disposition for a non-ASCII name', async () => {
    const name = 'résumé "final".csv';
    const up = await upload(server, session, [{ name: 'file', filename: name, data: Buffer.from('x,y\n') }]);
    expect(up.status).toBe(201);
    const res = await rawRequest(server.port, 'GET', filesUrl(`/input/${encodeURIComponent(name)}`), auth());
    expect(res.status).toBe(200);
    expect(res.body.toString()).toBe('x,y\n');
    expect(res.headers['content-type']).toBe('text/csv; charset=utf-8');
    expect(res.headers['content-length']).toBe('4');
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['content-disposition']).toBe(`attachment; filename="r_sum_ _final_.csv"; filename*=UTF-8''r%C3%A9sum%C3%A9%20%22final%22.csv`);
  });

  it('a PNG may be shown inline on request, while HTML is always an attachment', async () => {
    writeFileSync(path.join(session.root, 'output', 'chart.png'), Buffer.from([0x89, 0x50, 0x4e, 0x47]));
    writeFileSync(path.join(session.root, 'output', 'page.html'), '<script>alert(1)</script>');
    const png = await rawRequest(server.port, 'GET', filesUrl('/output/chart.png?disposition=inline'), auth());
    expect(png.headers['content-type']).toBe('image/png');
    expect(png.headers['content-disposition']).toMatch(/^inline; filename="chart.png"/);
    const html = await rawRequest(server.port, 'GET', filesUrl('/output/page.html?disposition=inline'), auth());
    expect(html.headers['content-disposition']).toMatch(/^attachment;/);
  });

  it('deleting a file removes it from disk and its row; deleting it again is FILE_5001', async () => {
    await upload(server, session, [{ name: 'file', filename: 'gone.txt', data: Buffer.from('bye') }]);
    const res = await rawRequest(server.port, 'DELETE', filesUrl('/input/gone.txt'), auth());
    expect(res.status).toBe(200);
    expect(res.json()).toEqual({ success: true });
    expect(existsSync(path.join(session.root, 'input', 'gone.txt'))).toBe(false);
    expect((await rowsFor(session)).some((r) => r.filename === 'gone.txt')).toBe(false);
    const again = await rawRequest(server.port, 'DELETE', filesUrl('/input/gone.txt'), auth());
    expect(again.status).toBe(404);
    expect(again.json().error?.code).toBe('FILE_5001');
  });

  it('deleting a sub-folder removes everything under it and its rows', async () => {
    await upload(server, session, [{ name: 'file', filename: 'a.txt', data: Buffer.from('a') }, { name: 'path', value: 'tmpdir' }]);
    const res = await rawRequest(server.port, 'DELETE', filesUrl('/input/tmpdir'), auth());
    expect(res.status).toBe(200);
    expect(existsSync(path.join(session.root, 'input', 'tmpdir'))).toBe(false);
    expect((await rowsFor(session)).some((r) => r.filename.startsWith('tmpdir'))).toBe(false);
  });

  it('a missing file download is FILE_5001 and a missing folder listing is FILE_5001', async () => {
    const res = await rawRequest(server.port, 'GET', filesUrl('/input/nope.txt'), auth());
    expect(res.status).toBe(404);
    expect(res.json().error?.code).toBe('FILE_5001');
    const list = await rawRequest(server.port, 'GET', filesUrl('?folder=input&path=nowhere'), auth());
    expect(list.json().error?.code).toBe('FILE_5001');
  });

  it('a session of another user answers 404 SES_4001 exactly like a missing one, and nothing is written', async () => {
    const stranger = await server.newUser();
    const foreign = await upload(server, { ...session, userId: stranger }, [{ name: 'file', filename: 'x.txt', data: Buffer.from('x') }]);
    expect(foreign.status).toBe(404);
    expect(foreign.json().error?.code).toBe('SES_4001');
    expect(existsSync(path.join(session.root, 'input', 'x.txt'))).toBe(false);
    for (const [method, suffix] of [['GET', ''], ['GET', '/input/data.csv'], ['DELETE', '/input/data.csv']] as const) {
      const res = await rawRequest(server.port, method, filesUrl(suffix), { 'x-test-user': stranger });
      expect(res.status).toBe(404);
      expect(res.json().error?.code).toBe('SES_4001');
    }
    const missing = await rawRequest(server.port, 'GET', '/api/v1/sessions/chat_000000000000/files', auth());
    expect(missing.json().error?.code).toBe('SES_4001');
    expect(existsSync(path.join(session.root, 'input', 'data.csv'))).toBe(true);
  });

  it('a request without a user is refused before anything is read', async () => {
    const res = await rawRequest(server.port, 'GET', filesUrl());
    expect(res.status).toBe(401);
    expect(res.json().error?.code).toBe('AUTH_1001');
  });

  it('an upload one byte over the limit is 413 FILE_5002 with no file, no temp file and no row left', async () => {
    const s = await server.newSession();
    const res = await upload(server, s, [{ name: 'file', filename: 'big.bin', data: Buffer.alloc(LIMIT + 1, 7) }]);
    expect(res.status).toBe(413);
    expect(res.json().error?.code).toBe('FILE_5002');
    expect(readdirSync(path.join(s.root, 'input'))).toEqual([]);
    expect(readdirSync(s.root).sort()).toEqual(['input', 'output']);
    expect(await rowsFor(s)).toEqual([]);
  });

  it('an upload of exactly the limit is accepted', async () => {
    const s = await server.newSession();
    const res = await upload(server, s, [{ name: 'file', filename: 'exact.bin', data: Buffer.alloc(LIMIT, 1) }]);
    expect(res.status).toBe(201);
    expect(res.json()).toMatchObject({ size: LIMIT, content_type: 'application/octet-stream' });
  });

  it('concurrent uploads of one name leave exactly one intact file, one row and no temp files', async () => {
    const s = await server.newSession();
    const bodies = [1, 2, 3, 4].map((n) => Buffer.alloc(200 * 1024, n));
    const results = await Promise.all(bodies.map((data) => upload(server, s, [{ name: 'file', filename: 'same.bin', data }])));
    expect(results.map((r) => r.status)).toEqual([201, 201, 201, 201]);
    const onDisk = readFileSync(path.join(s.root, 'input', 'same.bin'));
    expect(bodies.some((b) => b.equals(onDisk))).toBe(true);
    expect(readdirSync(s.root).sort()).toEqual(['input', 'output']);
    expect(readdirSync(path.join(s.root, 'input'))).toEqual(['same.bin']);
    expect(await rowsFor(s)).toEqual([{ folder: 'input', filename: 'same.bin', size_bytes: 200 * 1024, content_type: 'application/octet-stream' }]);
  });

  it('an upload without a file part is a 422 naming the field', async () => {
    const res = await upload(server, session, [{ name: 'folder', value: 'input' }]);
    expect(res.status).toBe(422);
    expect(res.json().error?.code).toBe('VAL_2001');
  });

  it('the 413 answer names the limit in words a person reads', async () => {
    const s = await server.newSession();
    const res = await upload(server, s, [{ name: 'file', filename: 'big.bin', data: Buffer.alloc(LIMIT + 1) }]);
    expect(res.json().error?.message).toBe('The file is larger than the upload limit of 256 KiB.');
  });

  it('two files in one upload are refused with 422 naming the file field, and neither is kept', async () => {
    const s = await server.newSession();
    const res = await upload(server, s, [
      { name: 'file', filename: 'one.txt', data: Buffer.from('1') },
      { name: 'file', filename: 'two.txt', data: Buffer.from('2') },
    ]);
    expect(res.status).toBe(422);
    expect(res.json().error).toMatchObject({ code: 'VAL_2001', message: 'Send one file per upload.', details: [{ field: 'file', message: 'only one file per upload' }] });
    expect(readdirSync(path.join(s.root, 'input'))).toEqual([]);
    expect(await rowsFor(s)).toEqual([]);
  });

  it('more than eight text fields are refused with 422 and nothing is kept; eight are fine', async () => {
    const s = await server.newSession();
    const fields = Array.from({ length: 9 }, (_, i) => ({ name: `note${i}`, value: 'x' }));
    const res = await upload(server, s, [...fields, { name: 'file', filename: 'a.txt', data: Buffer.from('a') }]);
    expect(res.status).toBe(422);
    expect(res.json().error).toMatchObject({ code: 'VAL_2001', message: 'The upload has too many fields.' });
    expect(readdirSync(path.join(s.root, 'input'))).toEqual([]);
    const eight = await upload(server, s, [...fields.slice(1), { name: 'file', filename: 'a.txt', data: Buffer.from('a') }]);
    expect(eight.status).toBe(201);
  });

  it('a field named __proto__ is refused with 422', async () => {
    const s = await server.newSession();
    const res = await upload(server, s, [{ name: '__proto__', value: 'x' }, { name: 'file', filename: 'a.txt', data: Buffer.from('a') }]);
    expect(res.status).toBe(422);
    expect(res.json().error).toMatchObject({ code: 'VAL_2001', message: 'The upload has a field with a reserved name.' });
  });

  it('a file sent in another field than "file" is refused with 422 saying which field, and nothing is kept', async () => {
    const s = await server.newSession();
    const res = await upload(server, s, [{ name: 'attachment', filename: 'wrong-field.txt', data: Buffer.alloc(64 * 1024, 9) }]);
    expect(res.status).toBe(422);
    expect(res.json().error).toMatchObject({ code: 'VAL_2001', message: 'The upload has no file: send it in the multipart field "file".', details: [{ field: 'file', message: 'is required' }] });
    expect(readdirSync(path.join(s.root, 'input'))).toEqual([]);
    expect(readdirSync(s.root).sort()).toEqual(['input', 'output']);
  });

  it('a JSON body instead of multipart is refused with 415 VAL_2004', async () => {
    const res = await rawRequest(server.port, 'POST', filesUrl(), { ...auth(), 'content-type': 'application/json' }, Buffer.from('{"file":"x"}'));
    expect(res.status).toBe(415);
    expect(res.json().error).toMatchObject({ code: 'VAL_2004', message: 'Send the file as multipart/form-data.' });
  });

  it('an upload over an existing folder name is refused with 409 and the folder survives', async () => {
    mkdirSync(path.join(session.root, 'input', 'keep'), { recursive: true });
    const res = await upload(server, session, [{ name: 'file', filename: 'keep', data: Buffer.from('x') }]);
    expect(res.status).toBe(409);
    expect(existsSync(path.join(session.root, 'input', 'keep'))).toBe(true);
  });
  it('every refusal says what was wrong with the path it names', async () => {
    mkdirSync(path.join(session.root, 'input', 'words'), { recursive: true });
    writeFileSync(path.join(session.root, 'input', 'words', 'plain.txt'), 'p');
    const error = async (method: 'GET' | 'DELETE', suffix: string) => {
      const res = await rawRequest(server.port, method, filesUrl(suffix), auth());
      const body = res.json() as { error: { code: string; message: string } };
      return `${res.status} ${body.error.code} ${body.error.message}`;
    };
    expect(await error('GET', '?folder=input&path=words%2Fplain.txt')).toBe('400 FILE_5004 "input/words/plain.txt" is a file, not a folder.');
    expect(await error('GET', '?folder=input&path=nowhere')).toBe('404 FILE_5001 No folder at "input/nowhere".');
    expect(await error('GET', '/input/words/nope.txt')).toBe('404 FILE_5001 No file at "input/words/nope.txt".');
    expect(await error('GET', '/input/words')).toBe('400 FILE_5004 "input/words" is a folder, not a file.');
    expect(await error('GET', '/input/.')).toBe('400 FILE_5004 Name a file inside the folder.');
    expect(await error('DELETE', '/input/.%2F')).toBe('400 FILE_5004 Name a file inside the folder.');
    expect(await error('DELETE', '/input/words/nope.txt')).toBe('404 FILE_5001 No file at "input/words/nope.txt".');
    const over = await upload(server, session, [{ name: 'file', filename: 'words', data: Buffer.from('x') }]);
    expect(over.json().error).toMatchObject({ code: 'RES_3002', message: '"input/words" is a folder; pick another name.' });
  });

  it('deleting a link to a whole folder or the session removes the link only, and the folder stays', async () => {
    writeFileSync(path.join(session.root, 'output', 'kept.txt'), 'k');
    symlinkSync(path.join(session.root, 'output'), path.join(session.root, 'input', 'all-output'));
    symlinkSync(session.root, path.join(session.root, 'input', 'everything'));
    for (const link of ['all-output', 'everything']) {
      const res = await rawRequest(server.port, 'DELETE', filesUrl(`/input/${link}`), auth());
      expect(res.status).toBe(200);
      expect(existsSync(path.join(session.root, 'input', link))).toBe(false);
    }
    expect(readFileSync(path.join(session.root, 'output', 'kept.txt'), 'utf8')).toBe('k');
  });

  it('a download is never cached by shared caches, runs nothing when opened, and is an attachment unless inline is asked for', async () => {
    writeFileSync(path.join(session.root, 'output', 'plot.png'), Buffer.from([0x89, 0x50]));
    const res = await rawRequest(server.port, 'GET', filesUrl('/output/plot.png'), auth());
    expect(res.headers['content-security-policy']).toBe("default-src 'none'; sandbox");
    expect(res.headers['cache-control']).toBe('private, no-cache');
    expect(res.headers['content-disposition']).toMatch(/^attachment; filename="plot.png"/);
  });

  it('deleting a file that is gone from disk still removes its row, and answers 404', async () => {
    await server.db.query(
      "INSERT INTO files (session_id, folder, filename, content_type, size_bytes) VALUES ($1, 'input', 'ghost.txt', 'text/plain', 1)",
      [session.uuid],
    );
    const res = await rawRequest(server.port, 'DELETE', filesUrl('/input/ghost.txt'), auth());
    expect(res.status).toBe(404);
    expect((await rowsFor(session)).some((r) => r.filename === 'ghost.txt')).toBe(false);
  });
});
