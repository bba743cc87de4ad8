/**
 * Real documents of every converted format, made at test time by real producers: pdf-lib for
 * PDFs (text, 500 pages, image only), Pandoc for DOCX/PPTX/EPUB/HTML, LibreOffice for
 * XLSX/XLS/ODS and the password-protected PDF, Python's zipfile for the zip bomb. Producers
 * that are missing leave their files out; `missing` says which and why.
 */
import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { deflateSync } from 'node:zlib';
import { PDFDocument, StandardFonts } from 'pdf-lib';

const run = promisify(execFile);

export const has = async (program: string): Promise<boolean> =>
  run('sh', ['-c', `command -v ${program}`]).then(
    () => true,
    () => false,
  );

/** A PDF with one page per entry of `pages`, each page's lines drawn as real text. */
export async function textPdf(pages: readonly string[][]): Promise<Uint8Array> {
  const doc = await PDFDocument.create();
  const font = await doc.embedFont(StandardFonts.Helvetica);
  for (const lines of pages) {
    const page = doc.addPage([595, 842]);
    lines.forEach((line, i) => page.drawText(line, { x: 50, y: 780 - i * 18, size: 12, font }));
  }
  return doc.save();
}

/** A grey 64×64 PNG, written with zlib (a writer, not a parser). */
function greyPng(): Uint8Array {
  const crcTable = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc = (buf: Buffer) => {
    let c = 0xffffffff;
    for (const b of buf) c = crcTable[(c ^ b) & 0xff]! ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
  const chunk = (type: string, data: Buffer) => {
    const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const out = Buffer.alloc(body.length + 8);
    out.writeUInt32BE(data.length, 0);
    body.copy(out, 4);
    out.writeUInt32BE(crc(body), body.length + 4);
    return out;
  };
  const size = 64;
  const header = Buffer.alloc(13);
  header.writeUInt32BE(size, 0);
  header.writeUInt32BE(size, 4);
  header[8] = 8; // bit depth
  header[9] = 0; // greyscale
  const raw = Buffer.alloc((size + 1) * size);
  for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) raw[y * (size + 1) + 1 + x] = (x * 7 + y * 13) % 256;
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', header), chunk('IDAT', deflateSync(raw)), chunk('IEND', Buffer.alloc(0))]);
}

export { greyPng };

/** A "scanned" PDF: two pages that are only pictures, no text layer. */
export async function imageOnlyPdf(): Promise<Uint8Array> {
  const doc = await PDFDocument.create();
  const image = await doc.embedPng(greyPng());
  for (let i = 0; i < 2; i++) doc.addPage([595, 842]).drawImage(image, { x: 0, y: 0, width: 595, height: 842 });
  return doc.save();
}

export const PAGE_FACTS = ['The warehouse in Lyon stores 4200 pallets of oranges.', 'Refunds are paid within fourteen days after the parcel returns.', 'The night shift starts at 22:00 and ends at 06:00.'];

export interface SampleFiles {
  dir: string;
  files: Record<string, string>;
  missing: string[];
}

async function soffice(dir: string, source: string, target: string): Promise<string> {
  await run('soffice', ['--headless', '--norestore', `-env:UserInstallation=file://${dir}/lo-profile`, '--convert-to', target, '--outdir', dir, source], { timeout: 120_000 });
  return path.join(dir, `${path.basename(source, path.extname(source))}.${target.split(':')[0]}`);
}

/** Writes every sample into `dir`; returns name → path. */
export async function makeSampleFiles(dir: string): Promise<SampleFiles> {
  const files: Record<string, string> = {};
  const missing: string[] = [];
  const write = async (name: string, data: Uint8Array | string) => {
    files[name] = path.join(dir, name);
    await fs.writeFile(files[name], data);
  };
  await write('report.pdf', await textPdf(PAGE_FACTS.map((fact, i) => [`Chapter ${i + 1}`, fact])));
  await write('scan.pdf', await imageOnlyPdf());
  await write('notes.txt', 'Plain notes: the boiler was serviced in March.\n');
  await write('table.csv', 'city,population\nLyon,522000\nNantes,320000\n');
  await write('guide.md', '# Guide\n\n## Setup\n\nInstall the pump before filling the tank.\n');
  const markdown = '# Travel policy\n\n## Trains\n\nEmployees travel second class on trips under four hours.\n\n| Item | Limit |\n|---|---|\n| Hotel | 120 EUR |\n| Meal | 30 EUR |\n';
  await write('policy.md', markdown);

  if (await has('pandoc')) {
    for (const [ext, extra] of [['docx', []], ['pptx', []], ['epub', ['--metadata', 'title=Policy']], ['html', ['-s', '--metadata', 'title=Policy']]] as const) {
      await run('pandoc', [files['policy.md']!, '-o', path.join(dir, `policy.${ext}`), ...extra], { timeout: 60_000 });
      files[`policy.${ext}`] = path.join(dir, `policy.${ext}`);
    }
    const docx = await fs.readFile(files['policy.docx']!);
    // Damaged the way a cut-off download is: the second half (with the ZIP directory) is gone.
    await write('broken.docx', docx.subarray(0, Math.floor(docx.length / 2)));
  } else missing.push('pandoc is not installed (apt package "pandoc"): DOCX, PPTX, EPUB and HTML samples skipped');

  if (await has('soffice')) {
    for (const ext of ['xlsx', 'xls', 'ods']) files[`table.${ext}`] = await soffice(dir, files['table.csv']!, ext);
    const secret = await soffice(dir, files['notes.txt']!, 'pdf:writer_pdf_Export:{"EncryptFile":{"type":"boolean","value":"true"},"DocumentOpenPassword":{"type":"string","value":"s3cret"}}');
    files['locked.pdf'] = path.join(dir, 'locked.pdf');
    await fs.rename(secret, files['locked.pdf']);
  } else missing.push('LibreOffice is not installed (apt package "libreoffice-calc libreoffice-writer"): XLSX, XLS, ODS and the password-protected PDF skipped');

  if (await has('python3')) {
    // 300 MB of zeros in one entry, about 300 KB on disk, disguised as a Word file.
    files['bomb.docx'] = path.join(dir, 'bomb.docx');
    const script = `import zipfile,sys\nwith zipfile.ZipFile(sys.argv[1],'w',zipfile.ZIP_DEFLATED) as z:\n  with z.open('word/document.xml','w',force_zip64=True) as f:\n    block=bytes(1<<20)\n    for _ in range(300): f.write(block)\n`;
    await run('python3', ['-c', script, files['bomb.docx']], { timeout: 60_000 });
  } else missing.push('python3 is not installed: the zip bomb sample skipped');
  return { dir, files, missing };
}
