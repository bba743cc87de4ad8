/**
 * Turns one file's bytes into text by its format. Runs inside the conversion worker (see
 * `conversion-worker.ts`): everything here may block, allocate and throw.
 */
import { ConversionFailure } from './conversion-failure.js';
import { capText, type ConvertLimits, type Converted } from './converted.js';
import type { DocumentFormat } from './formats.js';
import { convertDocx, convertHtml, convertSpreadsheet } from './office.js';
import { convertEpub, convertPptx } from './packages.js';
import { convertPdf } from './pdf.js';
import { checkZipBuffer, DEFAULT_ZIP_LIMITS } from './zip-guard.js';

const ZIP_MAGIC = [0x50, 0x4b, 0x03, 0x04];
const isZip = (bytes: Uint8Array) => ZIP_MAGIC.every((b, i) => bytes[i] === b);

function decodeText(bytes: Uint8Array, limits: ConvertLimits): Converted {
  if (bytes.subarray(0, 8192).includes(0)) throw new ConversionFailure('failed', 'The file holds binary data, not text.');
  return capText(new TextDecoder('utf-8').decode(bytes), limits.maxChars);
}

export async function convertBytes(bytes: Uint8Array, format: DocumentFormat, limits: ConvertLimits): Promise<Converted> {
  switch (format) {
    case 'pdf':
      return convertPdf(bytes, limits);
    case 'docx':
    case 'pptx':
    case 'epub':
      if (!isZip(bytes)) throw new ConversionFailure('failed', `The file is damaged or not a ${format.toUpperCase()} file (it is not a ZIP package).`);
      await checkZipBuffer(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), format.toUpperCase(), DEFAULT_ZIP_LIMITS);
      if (format === 'docx') return convertDocx(bytes, limits);
      return format === 'pptx' ? convertPptx(bytes, limits) : convertEpub(bytes, limits);
    case 'spreadsheet':
      // XLSX and ODS are ZIP packages; XLS is not.
      if (isZip(bytes)) await checkZipBuffer(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), 'spreadsheet', DEFAULT_ZIP_LIMITS);
      return convertSpreadsheet(bytes, limits);
    case 'html':
      return convertHtml(bytes, limits);
    case 'text':
      return decodeText(bytes, limits);
  }
}
