/**
 * Content types from file extensions, and RFC 6266 `Content-Disposition` values. The type is
 * derived from the name, never taken from the client, so a stored row and a download agree.
 */
import path from 'node:path';

const TYPES: Record<string, string> = {
  '.txt': 'text/plain; charset=utf-8',
  '.log': 'text/plain; charset=utf-8',
  '.md': 'text/markdown; charset=utf-8',
  '.markdown': 'text/markdown; charset=utf-8',
  '.csv': 'text/csv; charset=utf-8',
  '.tsv': 'text/tab-separated-values; charset=utf-8',
  '.json': 'application/json',
  '.jsonl': 'application/x-ndjson',
  '.html': 'text/html; charset=utf-8',
  '.htm': 'text/html; charset=utf-8',
  '.xml': 'application/xml',
  '.yaml': 'application/yaml',
  '.yml': 'application/yaml',
  '.py': 'text/x-python; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.ts': 'text/plain; charset=utf-8',
  '.sql': 'application/sql',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.svg': 'image/svg+xml',
  '.pdf': 'application/pdf',
  '.zip': 'application/zip',
  '.gz': 'application/gzip',
  '.xlsx': 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  '.xls': 'application/vnd.ms-excel',
  '.docx': 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  '.parquet': 'application/vnd.apache.parquet',
};

export const DEFAULT_CONTENT_TYPE = 'application/octet-stream';

/** The content type for a file name (by extension, case-insensitive); `application/octet-stream` when unknown. */
export function contentTypeFor(name: string): string {
  return TYPES[path.extname(name).toLowerCase()] ?? DEFAULT_CONTENT_TYPE;
}

/** The bare media type (`text/csv`), for JSON results and `files.content_type`. */
export function mediaTypeFor(name: string): string {
  return contentTypeFor(name).split(';')[0] ?? DEFAULT_CONTENT_TYPE;
}

/** Raster images and PDF may be shown inline; everything else (HTML, SVG, scripts) is always an attachment. */
const INLINE_SAFE = new Set(['image/png', 'image/jpeg', 'image/gif', 'image/webp', 'application/pdf']);

export function canShowInline(name: string): boolean {
  return INLINE_SAFE.has(mediaTypeFor(name));
}

/** RFC 5987 `attr-char`: everything else is percent-encoded in `filename*`. */
function encodeRfc5987(value: string): string {
  return Array.from(Buffer.from(value, 'utf8'))
    .map((byte) => {
      const ch = String.fromCharCode(byte);
      return /[A-Za-z0-9!#$&+\-.^_`|~]/.test(ch) ? ch : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
    })
    .join('');
}

/**
 * `attachment; filename="ascii fallback"; filename*=UTF-8''percent-encoded` (RFC 6266 + 5987).
 * The fallback replaces non-ASCII, quotes, backslashes and controls with `_`.
 */
export function contentDisposition(name: string, type: 'attachment' | 'inline' = 'attachment'): string {
  const fallback = name.replace(/[^\x20-\x7e]|["\\%]/g, '_');
  return `${type}; filename="${fallback}"; filename*=UTF-8''${encodeRfc5987(name)}`;
}
