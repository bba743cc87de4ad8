/**
 * The pure part of `edit_file`: apply `{old_text, new_text}` edits in order to a text, each
 * replacing exactly one match. An exact match is tried first; when there is none, a
 * whitespace-tolerant match (any run of whitespace matches any other, outer whitespace ignored)
 * replaces exactly the span it matched. All or nothing: the first edit that fails fails the batch.
 */

export interface Edit {
  old_text: string;
  new_text: string;
}

export type EditOutcome =
  | { ok: true; text: string; matches: Array<'exact' | 'whitespace'> }
  | { ok: false; index: number; reason: string };

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Every start index of `needle` in `haystack` (non-overlapping scan is enough to tell 0, 1 or many). */
function exactMatches(haystack: string, needle: string, limit = 2): number[] {
  const found: number[] = [];
  let from = 0;
  while (found.length < limit) {
    const at = haystack.indexOf(needle, from);
    if (at < 0) break;
    found.push(at);
    from = at + 1;
  }
  return found;
}

/** Spans matching `needle` when whitespace runs are treated as equal. */
function whitespaceMatches(haystack: string, needle: string, limit = 2): Array<{ start: number; end: number }> {
  const words = needle.trim().split(/\s+/).filter(Boolean);
  if (words.length === 0) return [];
  const pattern = new RegExp(words.map(escapeRegExp).join('\\s+'), 'g');
  const spans: Array<{ start: number; end: number }> = [];
  for (const match of haystack.matchAll(pattern)) {
    spans.push({ start: match.index, end: match.index + match[0].length });
    if (spans.length >= limit) break;
  }
  return spans;
}

function preview(text: string): string {
  const oneLine = text.replace(/\s+/g, ' ').trim();
  return oneLine.length > 80 ? `${oneLine.slice(0, 77)}...` : oneLine;
}

/** Applies `edits` to `text` in order; returns the new text, or which edit failed and why. */
export function applyEdits(text: string, edits: readonly Edit[]): EditOutcome {
  let current = text;
  const matches: Array<'exact' | 'whitespace'> = [];
  for (const [index, edit] of edits.entries()) {
    if (edit.old_text.trim() === '') {
      return { ok: false, index, reason: `edit ${index + 1}: old_text is empty; give the exact text to replace.` };
    }
    const exact = exactMatches(current, edit.old_text);
    if (exact.length > 1) {
      return { ok: false, index, reason: `edit ${index + 1}: old_text "${preview(edit.old_text)}" matches more than once; add surrounding lines to make it unique.` };
    }
    if (exact.length === 1) {
      const start = exact[0]!;
      current = current.slice(0, start) + edit.new_text + current.slice(start + edit.old_text.length);
      matches.push('exact');
      continue;
    }
    const loose = whitespaceMatches(current, edit.old_text);
    if (loose.length === 0) {
      return { ok: false, index, reason: `edit ${index + 1}: old_text "${preview(edit.old_text)}" was not found (not even ignoring whitespace).` };
    }
    if (loose.length > 1) {
      return { ok: false, index, reason: `edit ${index + 1}: old_text "${preview(edit.old_text)}" matches more than once when whitespace is ignored; add surrounding lines.` };
    }
    const span = loose[0]!;
    current = current.slice(0, span.start) + edit.new_text + current.slice(span.end);
    matches.push('whitespace');
  }
  return { ok: true, text: current, matches };
}
