/**
 * Which files Pulp turns into text, by extension: a document format has a converter; plain text
 * formats are read as they are; anything else is `unsupported` (it stays a download).
 */
export const DOCUMENT_FORMATS = ['pdf', 'docx', 'spreadsheet', 'pptx', 'epub', 'html', 'text'] as const;
export type DocumentFormat = (typeof DOCUMENT_FORMATS)[number];

const BY_EXTENSION: Record<string, DocumentFormat> = {
  pdf: 'pdf',
  docx: 'docx',
  xlsx: 'spreadsheet',
  xlsm: 'spreadsheet',
  xls: 'spreadsheet',
  ods: 'spreadsheet',
  pptx: 'pptx',
  epub: 'epub',
  html: 'html',
  htm: 'html',
  xhtml: 'html',
  csv: 'text',
  tsv: 'text',
  md: 'text',
  markdown: 'text',
  txt: 'text',
  text: 'text',
  rst: 'text',
  json: 'text',
};

/** The format of a file name, or undefined when Pulp does not convert or index it. */
export function formatOf(filename: string): DocumentFormat | undefined {
  const dot = filename.lastIndexOf('.');
  if (dot < 0) return undefined;
  return BY_EXTENSION[filename.slice(dot + 1).toLowerCase()];
}

/** Binary formats whose converted text `read_file` shows instead of the bytes. */
export function isBinaryDocument(filename: string): boolean {
  const format = formatOf(filename);
  return format !== undefined && format !== 'text' && format !== 'html';
}
