/**
 * Snippets as plain text with highlight offsets. `ts_headline` marks the matched words with two
 * private-use characters (removed from the text beforehand, so a message cannot fake a mark); this
 * turns its answer into the text without marks and the `[start, end)` ranges the marks enclosed.
 * A client renders text nodes and `<mark>` elements from them: no markup is ever interpreted.
 */

/** Opens a highlight in `ts_headline`'s answer (U+E000, a private-use character). */
export const MARK_START = '\uE000';
/** Closes a highlight (U+E001). */
export const MARK_END = '\uE001';

export interface Snippet {
  /** Plain text: whitespace runs collapsed to one space, trimmed. */
  text: string;
  /** `[start, end)` offsets into `text` in UTF-16 code units (JavaScript string indexes), in order. */
  highlights: Array<[number, number]>;
}

/** Splits marked text into plain text and the ranges between each start and end mark. */
export function parseMarked(marked: string): Snippet {
  let text = '';
  const highlights: Array<[number, number]> = [];
  let open: number | undefined;
  let pendingSpace = false;
  for (const char of marked) {
    if (char === MARK_START) {
      open ??= text.length + (pendingSpace && text !== '' ? 1 : 0);
      continue;
    }
    if (char === MARK_END) {
      if (open !== undefined && text.length > open) highlights.push([open, text.length]);
      open = undefined;
      continue;
    }
    if (/\s/.test(char)) {
      pendingSpace = true;
      continue;
    }
    if (pendingSpace && text !== '') text += ' ';
    pendingSpace = false;
    text += char;
  }
  return { text, highlights: mergeTouching(highlights) };
}

/** Ranges that touch or overlap become one ("New" and "York" highlighted as "New York" stay two). */
function mergeTouching(ranges: Array<[number, number]>): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (const range of ranges) {
    const last = out.at(-1);
    if (last && range[0] <= last[1]) last[1] = Math.max(last[1], range[1]);
    else out.push([range[0], range[1]]);
  }
  return out;
}
