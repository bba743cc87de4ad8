/**
 * PDF → text with `--- page N ---` markers, by PDF.js (through unpdf, which runs it without a
 * browser). A PDF without any text (a scan) is `no_text`; an encrypted one is `failed`.
 */
import { getDocumentProxy } from 'unpdf';
import { ConversionFailure } from './conversion-failure.js';
import type { ConvertLimits, Converted } from './converted.js';

interface TextItemLike {
  str?: unknown;
  hasEOL?: unknown;
}

function pageText(items: readonly TextItemLike[]): string {
  let text = '';
  for (const item of items) {
    if (typeof item.str === 'string') text += item.str;
    if (item.hasEOL === true) text += '\n';
  }
  return text.replace(/[ \t]+\n/g, '\n').trim();
}

export async function convertPdf(bytes: Uint8Array, limits: ConvertLimits): Promise<Converted> {
  let pdf;
  try {
    pdf = await getDocumentProxy(bytes, { stopAtErrors: false });
  } catch (err) {
    const name = (err as { name?: unknown }).name;
    if (name === 'PasswordException') throw new ConversionFailure('failed', 'The PDF is password-protected; remove the password and upload it again.');
    if (name === 'InvalidPDFException') throw new ConversionFailure('failed', 'The file is not a valid PDF (it may be damaged).');
    throw err;
  }
  try {
    const total = pdf.numPages;
    const pages = Math.min(total, limits.maxPages);
    const parts: string[] = [];
    let chars = 0;
    let shown = 0;
    for (let n = 1; n <= pages && chars < limits.maxChars; n++) {
      const page = await pdf.getPage(n);
      const content = await page.getTextContent();
      const text = pageText(content.items as TextItemLike[]);
      page.cleanup();
      parts.push(`--- page ${n} ---\n${text}`);
      chars += text.length;
      shown = n;
    }
    if (chars === 0 && shown === total) {
      throw new ConversionFailure('no_text', 'The PDF has no text layer (a scanned document?); Pulp does not run OCR, so it cannot be read or searched.');
    }
    const cut = shown < total ? `\n\n[Only the first ${shown} of ${total} pages were converted.]` : '';
    return { text: parts.join('\n\n') + cut, pages: total, truncated: shown < total };
  } finally {
    await pdf.cleanup();
    await pdf.loadingTask.destroy();
  }
}
