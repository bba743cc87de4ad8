/**
 * `search_files`' text search: the lines of a file's text that contain a phrase (case-insensitive,
 * taken literally), each with its line number and, in a converted PDF, the page of the nearest
 * `--- page N ---` marker above it.
 */

/** Characters of a matching line shown at most; a longer line is cut around the match. */
export const MAX_MATCH_LINE_CHARS = 200;
/** Characters of text `search_files` reads at most in one call (files and converted documents together). */
export const MAX_SEARCH_TEXT_CHARS = 64 * 1024 * 1024;

const PAGE_MARKER = /^--- page (\d+) ---$/;

export interface LineMatch {
  /** 1-based, as `read_file`'s `head`/`tail` count lines. */
  line: number;
  page: number | null;
  excerpt: string;
}

/** Up to `max` lines of `text` containing `needle`, in order. */
export function matchingLines(text: string, needle: string, max: number): LineMatch[] {
  const wanted = needle.toLowerCase();
  const found: LineMatch[] = [];
  let page: number | null = null;
  let start = 0;
  for (let line = 1; start <= text.length && found.length < max; line++) {
    const end = text.indexOf('\n', start);
    const content = text.slice(start, end === -1 ? text.length : end).replace(/\r$/, '');
    start = end === -1 ? text.length + 1 : end + 1;
    const marker = PAGE_MARKER.exec(content);
    if (marker) {
      page = Number(marker[1]);
      continue;
    }
    const at = content.toLowerCase().indexOf(wanted);
    if (at !== -1) found.push({ line, page, excerpt: excerpt(content, at, wanted.length) });
  }
  return found;
}

/** The line trimmed, or a window of it around the match when it is long. */
function excerpt(content: string, at: number, length: number): string {
  const trimmed = content.trim();
  if (trimmed.length <= MAX_MATCH_LINE_CHARS) return trimmed;
  const from = Math.max(0, Math.min(at - Math.floor((MAX_MATCH_LINE_CHARS - length) / 2), content.length - MAX_MATCH_LINE_CHARS));
  const window = content.slice(from, from + MAX_MATCH_LINE_CHARS).trim();
  return `${from > 0 ? '…' : ''}${window}${from + MAX_MATCH_LINE_CHARS < content.length ? '…' : ''}`;
}

/** How a match reads in `search_files`' `matches`: `input/report.pdf:14 (p. 3): …` or `notes.txt:2: …`. */
export function formatMatch(path: string, match: LineMatch): string {
  return `${path}:${match.line}${match.page !== null ? ` (p. ${match.page})` : ''}: ${match.excerpt}`;
}
