/**
 * Word, spreadsheet and HTML conversions: DOCX by mammoth (→ HTML), spreadsheets (XLSX, XLS, ODS)
 * by SheetJS, HTML by node-html-markdown; the result is Markdown with headings and tables.
 */
import mammoth from 'mammoth';
import { NodeHtmlMarkdown } from 'node-html-markdown';
import * as XLSX from 'xlsx';
import { ConversionFailure } from './conversion-failure.js';
import { capText, type ConvertLimits, type Converted } from './converted.js';

const markdown = new NodeHtmlMarkdown({ maxConsecutiveNewlines: 2, ignore: ['script', 'style', 'noscript', 'template'] });

export function htmlToMarkdown(html: string): string {
  // XHTML prologs (EPUB chapters) are not HTML; the converter would keep them as text.
  return markdown.translate(html.replace(/<\?xml[^>]*\?>/gi, '').replace(/<!DOCTYPE[^>]*>/gi, '')).trim();
}

export function convertHtml(bytes: Uint8Array, limits: ConvertLimits): Converted {
  return capText(htmlToMarkdown(new TextDecoder('utf-8').decode(bytes)), limits.maxChars);
}

export async function convertDocx(bytes: Uint8Array, limits: ConvertLimits): Promise<Converted> {
  let html: string;
  try {
    html = (await mammoth.convertToHtml({ buffer: Buffer.from(bytes) })).value;
  } catch (err) {
    throw new ConversionFailure('failed', `The Word document is damaged or not a DOCX file (${(err as Error).message.slice(0, 200)}).`);
  }
  return capText(htmlToMarkdown(html), limits.maxChars);
}

const cell = (value: unknown): string => (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean' ? String(value) : '').replace(/\|/g, '\\|').replace(/\r?\n/g, ' ').trim();

export function convertSpreadsheet(bytes: Uint8Array, limits: ConvertLimits): Converted {
  let book: XLSX.WorkBook;
  try {
    book = XLSX.read(bytes, { type: 'buffer', sheetRows: limits.maxRows + 1, cellHTML: false, cellFormula: false, dense: true });
  } catch (err) {
    throw new ConversionFailure('failed', `The spreadsheet is damaged or in an unknown format (${(err as Error).message.slice(0, 200)}).`);
  }
  const parts: string[] = [];
  let truncated = false;
  for (const name of book.SheetNames) {
    const sheet = book.Sheets[name];
    if (!sheet) continue;
    const rows = XLSX.utils.sheet_to_json<unknown[]>(sheet, { header: 1, blankrows: false, defval: '', raw: false });
    if (rows.length > limits.maxRows) {
      rows.length = limits.maxRows;
      truncated = true;
    }
    const width = Math.max(1, ...rows.map((r) => r.length));
    const line = (r: unknown[]) => `| ${Array.from({ length: width }, (_, i) => cell(r[i])).join(' | ')} |`;
    const [header = [], ...body] = rows;
    const table = rows.length === 0 ? '(empty sheet)' : [line(header), `|${' --- |'.repeat(width)}`, ...body.map(line)].join('\n');
    parts.push(`## ${name}\n\n${table}${truncated ? `\n\n[Only the first ${limits.maxRows} rows were converted.]` : ''}`);
  }
  const capped = capText(parts.join('\n\n'), limits.maxChars);
  return { text: capped.text, truncated: truncated || capped.truncated };
}
