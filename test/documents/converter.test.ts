/**
 * The converter's defences, on files made here: declared sizes of a ZIP package checked before it
 * is inflated, a conversion that takes too long stopped, and limits on pages and rows.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import JSZip from 'jszip';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DocumentConverter } from '../../src/documents/convert/converter.js';
import { checkZipBuffer } from '../../src/documents/convert/zip-guard.js';
import { textPdf } from './sample-files.js';

describe('the document converter', () => {
  let dir: string;
  const converter = new DocumentConverter({ limits: { maxPages: 5, maxRows: 10 } });

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'pulp-convert-'));
  });
  afterAll(async () => {
    await converter.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('a package whose entries unpack far beyond their size is refused before it is inflated', async () => {
    const zip = new JSZip();
    zip.file('word/document.xml', Buffer.alloc(20 * 1024 * 1024));
    const bytes = await zip.generateAsync({ type: 'nodebuffer', compression: 'DEFLATE' });
    await expect(checkZipBuffer(bytes, 'DOCX')).rejects.toMatchObject({ status: 'failed', message: expect.stringMatching(/compressed more than 200:1/) });
    await expect(checkZipBuffer(bytes, 'DOCX', { maxTotalBytes: 1e9, maxEntries: 10, maxRatio: 1e6 })).resolves.toBeUndefined();
    const many = new JSZip();
    for (let i = 0; i < 3; i++) many.file(`f${i}.xml`, 'x');
    await expect(checkZipBuffer(await many.generateAsync({ type: 'nodebuffer' }), 'EPUB', { maxTotalBytes: 1e9, maxEntries: 2, maxRatio: 200 })).rejects.toMatchObject({
      message: expect.stringMatching(/more than 2 entries/),
    });
  });

  it('only the first pages of a long PDF are converted, with a note', async () => {
    const file = path.join(dir, 'long.pdf');
    await writeFile(file, await textPdf(Array.from({ length: 8 }, (_, i) => [`Page ${i + 1}`])));
    const answer = await converter.convert(file, 'pdf');
    expect(answer).toMatchObject({ ok: true, pages: 8, truncated: true });
    const text = answer.ok ? answer.text : '';
    expect(text).toContain('--- page 5 ---\nPage 5');
    expect(text).not.toContain('--- page 6 ---');
    expect(text).toContain('[Only the first 5 of 8 pages were converted.]');
  });

  it('a conversion over its time is stopped and the next file converts in a fresh worker', async () => {
    const slow = new DocumentConverter({ timeoutMs: 1 });
    const file = path.join(dir, 'some.pdf');
    await writeFile(file, await textPdf([['Hello']]));
    try {
      expect(await slow.convert(file, 'pdf')).toEqual({ ok: false, status: 'failed', error: expect.stringMatching(/took longer than/) });
    } finally {
      await slow.close();
    }
    expect(await converter.convert(file, 'pdf')).toMatchObject({ ok: true, text: '--- page 1 ---\nHello' });
  });

  it('a file that is not what its name says fails with a clear message', async () => {
    const file = path.join(dir, 'fake.pdf');
    await writeFile(file, 'this is not a PDF');
    expect(await converter.convert(file, 'pdf')).toMatchObject({ ok: false, status: 'failed', error: expect.stringMatching(/not a valid PDF/) });
    const pptx = path.join(dir, 'fake.pptx');
    await writeFile(pptx, 'plain text');
    expect(await converter.convert(pptx, 'pptx')).toMatchObject({ ok: false, status: 'failed', error: expect.stringMatching(/not a PPTX file/) });
  });
});
