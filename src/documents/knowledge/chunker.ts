/**
 * Splits converted text into chunks for search: by page (the `--- page N ---` markers of a PDF)
 * or by Markdown heading, then into pieces of about `targetChars` at paragraph boundaries, each
 * starting with the last `overlapChars` of the one before (so a sentence cut at a boundary is
 * whole in one of them). Pure and synchronous.
 */
export interface Chunk {
  ordinal: number;
  page: number | null;
  /** The nearest heading above the chunk (a sheet name, a slide, a chapter). */
  section: string | null;
  content: string;
}

export interface ChunkOptions {
  targetChars?: number;
  overlapChars?: number;
  maxChunks?: number;
}

const PAGE_MARKER = /^--- page (\d+) ---$/;
const HEADING = /^(#{1,6})\s+(.+?)\s*#*$/;

interface Part {
  page: number | null;
  section: string | null;
  text: string;
}

function parts(text: string): Part[] {
  const out: Part[] = [];
  let current: Part = { page: null, section: null, text: '' };
  const flush = () => {
    const text = current.text.trim();
    // A heading with nothing under it (a title above its first sub-heading) is not worth a chunk.
    if (text && !(HEADING.test(text) && !text.includes('\n'))) out.push({ ...current, text });
  };
  for (const line of text.split('\n')) {
    const page = PAGE_MARKER.exec(line);
    const heading = page ? null : HEADING.exec(line);
    if (page) {
      flush();
      current = { page: Number(page[1]), section: null, text: '' };
    } else if (heading) {
      flush();
      current = { page: current.page, section: heading[2]!.slice(0, 200), text: `${line}\n` };
    } else current.text += `${line}\n`;
  }
  flush();
  return out;
}

/** Pieces no longer than `max`: paragraphs, then sentences, then hard cuts. */
function pieces(text: string, max: number): string[] {
  const out: string[] = [];
  for (const paragraph of text.split(/\n\s*\n/)) {
    if (paragraph.length <= max) {
      out.push(paragraph);
      continue;
    }
    for (const sentence of paragraph.split(/(?<=[.!?])\s+/)) {
      for (let i = 0; i < sentence.length; i += max) out.push(sentence.slice(i, i + max));
    }
  }
  return out.filter((p) => p.trim() !== '');
}

function tail(text: string, chars: number): string {
  if (text.length <= chars) return text;
  const cut = text.slice(-chars);
  const space = cut.indexOf(' ');
  return space >= 0 ? cut.slice(space + 1) : cut;
}

export function chunkText(text: string, options: ChunkOptions = {}): Chunk[] {
  const target = options.targetChars ?? 1200;
  const overlap = options.overlapChars ?? 200;
  const maxChunks = options.maxChunks ?? 20_000;
  const chunks: Chunk[] = [];
  for (const part of parts(text)) {
    let current = '';
    let fresh = false;
    const push = () => {
      if (fresh && chunks.length < maxChunks) chunks.push({ ordinal: chunks.length, page: part.page, section: part.section, content: current.trim() });
      current = tail(current, overlap);
      fresh = false;
    };
    for (const piece of pieces(part.text, target)) {
      if (fresh && current.length + piece.length + 2 > target) push();
      current = current ? `${current}\n\n${piece}` : piece;
      fresh = true;
    }
    push();
    if (chunks.length >= maxChunks) break;
  }
  return chunks;
}
