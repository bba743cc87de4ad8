/**
 * Bad and oversized import files through the real server: a clear error, and not one row written
 * (counted before and after). IMPORT_MAX_BYTES is 64 KiB here.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rowCounts, startTransferServer, type TransferServer } from './support.js';

let t: TransferServer;
const LIMIT = 65_536;
beforeAll(async () => {
  t = await startTransferServer({ IMPORT_MAX_BYTES: String(LIMIT) });
});
afterAll(async () => {
  await t?.close();
});

async function post(body: BodyInit, contentType?: string) {
  const res = await fetch(`${t.server.baseUrl}/api/v1/sessions/import`, { method: 'POST', body, headers: contentType ? { 'content-type': contentType } : {} });
  return { status: res.status, body: (await res.json()) as { error?: { code: string; message: string } } };
}

/** Posts `body` and expects a refusal with `status` and `code` that wrote nothing. */
async function expectRefused(send: () => Promise<{ status: number; body: { error?: { code: string; message: string } } }>, status: number, code: string): Promise<string> {
  const before = await rowCounts(t.server.database.db);
  const res = await send();
  expect(res.status, JSON.stringify(res.body)).toBe(status);
  expect(res.body.error?.code).toBe(code);
  expect(await rowCounts(t.server.database.db)).toEqual(before);
  return res.body.error!.message;
}

const conversation = (mapping: Record<string, unknown>, title = 'Broken') => ({ title, create_time: 1_700_000_000, current_node: null, mapping });
const node = (parent: string | null, text: string, role = 'user') => ({ parent, message: { author: { role }, content: { content_type: 'text', parts: [text] } } });

describe('a refused import writes nothing', () => {
  it('a file that is not JSON, or not UTF-8', async () => {
    expect(await expectRefused(() => post('{"title": ', 'application/json'), 400, 'VAL_2031')).toMatch(/not valid JSON/);
    const badUtf8 = Buffer.concat([Buffer.from('[{"title":"'), Buffer.from([0xc3, 0x28]), Buffer.from('","mapping":{}}]')]);
    expect(await expectRefused(() => post(new Uint8Array(badUtf8), 'application/json'), 400, 'VAL_2031')).toBe('The import file is not valid UTF-8 text.');
  });

  it('a file in no format Pulp knows', async () => {
    expect(await expectRefused(() => post(JSON.stringify({ messages: 'hi' }), 'application/json'), 422, 'VAL_2032')).toMatch(/ChatGPT's conversations.json/);
  });

  it('a second conversation with an unknown parent: the first is not imported either', async () => {
    const good = conversation({ a: node(null, 'fine'), b: node('a', 'also fine', 'assistant') }, 'Good');
    const bad = conversation({ a: node(null, 'fine'), b: node('ghost', 'orphan') });
    const message = await expectRefused(() => post(JSON.stringify([good, bad]), 'application/json'), 422, 'VAL_2033');
    expect(message).toBe('The import file is not valid: conversation 2 (Broken), node b: parent ghost does not exist');
  });

  it('a NUL character inside a message', async () => {
    const file = [conversation({ a: node(null, 'bad \u0000 text') })];
    expect(await expectRefused(() => post(JSON.stringify(file), 'application/json'), 422, 'VAL_2033')).toContain('node a: the text must not contain the NUL character');
  });

  it('a JSON body over IMPORT_MAX_BYTES', async () => {
    const big = JSON.stringify([conversation({ a: node(null, 'x'.repeat(LIMIT)) })]);
    expect(await expectRefused(() => post(big, 'application/json'), 413, 'VAL_2030')).toBe(`The import file is larger than ${LIMIT} bytes (IMPORT_MAX_BYTES).`);
  });

  it('a multipart file over IMPORT_MAX_BYTES', async () => {
    const form = new FormData();
    form.append('file', new Blob([JSON.stringify([conversation({ a: node(null, 'y'.repeat(LIMIT)) })])]), 'conversations.json');
    expect(await expectRefused(() => post(form), 413, 'VAL_2030')).toContain('IMPORT_MAX_BYTES');
  });

  it('a multipart request without a file field', async () => {
    const form = new FormData();
    form.append('note', 'no file here');
    expect(await expectRefused(() => post(form), 400, 'VAL_2035')).toContain('multipart field "file"');
  });

  it('needs a signed-in user in jwt mode', async () => {
    const secure = await startTransferServer({ AUTH_MODE: 'jwt', JWT_SECRET: 'x'.repeat(40) });
    try {
      const res = await fetch(`${secure.server.baseUrl}/api/v1/sessions/import`, { method: 'POST', body: '[]', headers: { 'content-type': 'application/json' } });
      expect(res.status).toBe(401);
    } finally {
      await secure.close();
    }
  });
});
