/**
 * PowerPoint (PPTX) and EPUB: both are ZIP packages of XML. JSZip opens them (after the zip
 * guard), fast-xml-parser reads the XML; EPUB chapters are XHTML and go through the HTML converter.
 */
import path from 'node:path';
import { XMLParser } from 'fast-xml-parser';
import JSZip from 'jszip';
import { ConversionFailure } from './conversion-failure.js';
import { capText, type ConvertLimits, type Converted } from './converted.js';
import { htmlToMarkdown } from './office.js';

type Ordered = Record<string, unknown>;
const orderedParser = new XMLParser({ preserveOrder: true, ignoreAttributes: true, processEntities: true, trimValues: false });
const attributeParser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '', removeNSPrefix: true, isArray: (name) => ['item', 'itemref', 'rootfile'].includes(name) });

async function open(bytes: Uint8Array, kind: string): Promise<JSZip> {
  try {
    return await JSZip.loadAsync(bytes);
  } catch (err) {
    throw new ConversionFailure('failed', `The ${kind} file is damaged (${(err as Error).message.slice(0, 200)}).`);
  }
}

/** The text of DrawingML paragraphs (`a:p` of `a:t` runs), one line each, in document order. */
function drawingText(nodes: unknown, lines: string[], current: { text: string }): void {
  if (!Array.isArray(nodes)) return;
  for (const node of nodes as Ordered[]) {
    for (const [tag, value] of Object.entries(node)) {
      if (tag === '#text') continue;
      if (tag === 'a:t' && Array.isArray(value)) {
        for (const t of value as Ordered[]) if (typeof t['#text'] === 'string' || typeof t['#text'] === 'number') current.text += String(t['#text']);
        continue;
      }
      drawingText(value, lines, current);
      if (tag === 'a:p') {
        if (current.text.trim()) lines.push(current.text.trim());
        current.text = '';
      }
    }
  }
}

export async function convertPptx(bytes: Uint8Array, limits: ConvertLimits): Promise<Converted> {
  const zip = await open(bytes, 'PowerPoint');
  const slides = Object.keys(zip.files)
    .map((name) => ({ name, n: Number(/^ppt\/slides\/slide(\d+)\.xml$/.exec(name)?.[1]) }))
    .filter((s) => Number.isInteger(s.n))
    .sort((a, b) => a.n - b.n);
  if (slides.length === 0) throw new ConversionFailure('failed', 'The file has no slides; it is not a PowerPoint presentation.');
  const parts: string[] = [];
  for (const slide of slides.slice(0, limits.maxPages)) {
    const xml = await zip.file(slide.name)!.async('string');
    const lines: string[] = [];
    drawingText(orderedParser.parse(xml), lines, { text: '' });
    parts.push(`## Slide ${slide.n}\n\n${lines.join('\n\n')}`);
  }
  const capped = capText(parts.join('\n\n'), limits.maxChars);
  return { text: capped.text, pages: slides.length, truncated: capped.truncated || slides.length > limits.maxPages };
}

interface Manifest {
  item?: Array<{ id: string; href: string; 'media-type'?: string }>;
}

export async function convertEpub(bytes: Uint8Array, limits: ConvertLimits): Promise<Converted> {
  const zip = await open(bytes, 'EPUB');
  const container = await zip.file('META-INF/container.xml')?.async('string');
  if (!container) throw new ConversionFailure('failed', 'The EPUB has no META-INF/container.xml; it is damaged.');
  const rootfile = (attributeParser.parse(container) as { container?: { rootfiles?: { rootfile?: Array<{ 'full-path'?: string }> } } }).container?.rootfiles?.rootfile?.[0]?.['full-path'];
  const opfXml = rootfile ? await zip.file(rootfile)?.async('string') : undefined;
  if (!rootfile || !opfXml) throw new ConversionFailure('failed', 'The EPUB names no package document; it is damaged.');
  const opf = (attributeParser.parse(opfXml) as { package?: { manifest?: Manifest; spine?: { itemref?: Array<{ idref: string }> } } }).package;
  const hrefs = new Map((opf?.manifest?.item ?? []).map((i) => [i.id, i.href]));
  const base = path.posix.dirname(rootfile);
  const parts: string[] = [];
  let chars = 0;
  for (const ref of opf?.spine?.itemref ?? []) {
    const href = hrefs.get(ref.idref);
    if (!href) continue;
    const xhtml = await zip.file(path.posix.normalize(path.posix.join(base, decodeURIComponent(href))))?.async('string');
    if (!xhtml) continue;
    const text = htmlToMarkdown(xhtml);
    parts.push(text);
    chars += text.length;
    if (chars > limits.maxChars) break;
  }
  return capText(parts.join('\n\n'), limits.maxChars);
}
