/**
 * HTML to readable markdown-like text for the fetch server: drops scripts, styles and page
 * chrome, keeps headings, paragraphs, lists, links, code blocks and table rows. A small
 * tokenizer rather than a DOM: pages are untrusted and may be malformed; this never throws.
 */

const DROP = ['script', 'style', 'noscript', 'template', 'svg', 'head', 'iframe', 'object', 'canvas', 'nav', 'footer', 'form'];
const BLOCK = new Set([
  'p', 'div', 'section', 'article', 'main', 'header', 'aside', 'blockquote', 'figure', 'figcaption',
  'ul', 'ol', 'dl', 'dt', 'dd', 'table', 'thead', 'tbody', 'tfoot', 'address', 'details', 'summary', 'hr',
]);

const NAMED_ENTITIES: Record<string, string> = {
  amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ', copy: '©', reg: '®', hellip: '…',
  mdash: '—', ndash: '–', lsquo: '‘', rsquo: '’', ldquo: '“', rdquo: '”', laquo: '«', raquo: '»',
  middot: '·', bull: '•', euro: '€', pound: '£', yen: '¥', times: '×', deg: '°',
};

export function decodeEntities(text: string): string {
  return text.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (whole, body: string) => {
    if (body[0] === '#') {
      const code = body[1] === 'x' || body[1] === 'X' ? parseInt(body.slice(2), 16) : parseInt(body.slice(1), 10);
      return Number.isFinite(code) && code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : whole;
    }
    return NAMED_ENTITIES[body.toLowerCase()] ?? whole;
  });
}

function attribute(tag: string, name: string): string | undefined {
  const match = new RegExp(`\\s${name}\\s*=\\s*("([^"]*)"|'([^']*)'|([^\\s>]+))`, 'i').exec(tag);
  return match ? decodeEntities(match[2] ?? match[3] ?? match[4] ?? '') : undefined;
}

/** The page's `<title>`, if any. */
export function htmlTitle(html: string): string | undefined {
  const match = /<title[^>]*>([\s\S]*?)<\/title>/i.exec(html);
  const title = match?.[1] ? decodeEntities(match[1]).replace(/\s+/g, ' ').trim() : '';
  return title || undefined;
}

/** Converts an HTML document to markdown-like text; relative links are resolved against `baseUrl`. */
export function htmlToText(html: string, baseUrl?: string): string {
  let source = html.replace(/<!--[\s\S]*?-->/g, '');
  for (const tag of DROP) source = source.replace(new RegExp(`<${tag}\\b[\\s\\S]*?<\\/${tag}\\s*>`, 'gi'), ' ');

  const out: string[] = [];
  const links: string[] = [];
  let pre = 0;
  let listDepth = 0;
  const tokens = source.split(/(<[^>]+>)/);
  for (const token of tokens) {
    if (!token.startsWith('<')) {
      const text = decodeEntities(token);
      out.push(pre > 0 ? text : text.replace(/\s+/g, ' '));
      continue;
    }
    const match = /^<\s*(\/?)\s*([a-z0-9]+)/i.exec(token);
    if (!match) continue;
    const closing = match[1] === '/';
    const name = (match[2] ?? '').toLowerCase();
    if (/^h[1-6]$/.test(name)) {
      out.push(closing ? '\n\n' : `\n\n${'#'.repeat(Number(name[1]))} `);
    } else if (name === 'br') {
      out.push('\n');
    } else if (name === 'li') {
      if (!closing) out.push(`\n${'  '.repeat(Math.max(0, listDepth - 1))}- `);
    } else if (name === 'ul' || name === 'ol') {
      listDepth = Math.max(0, listDepth + (closing ? -1 : 1));
      out.push('\n');
    } else if (name === 'pre') {
      pre = Math.max(0, pre + (closing ? -1 : 1));
      out.push(closing ? '\n```\n\n' : '\n\n```\n');
    } else if (name === 'code' && pre === 0) {
      out.push('`');
    } else if (name === 'tr') {
      if (!closing) out.push('\n|');
    } else if (name === 'td' || name === 'th') {
      out.push(closing ? ' |' : ' ');
    } else if (name === 'a') {
      if (!closing) {
        const href = attribute(token, 'href');
        links.push(href ?? '');
        out.push('[');
      } else {
        const href = links.pop() ?? '';
        let resolved = href;
        try {
          resolved = baseUrl ? new URL(href, baseUrl).href : href;
        } catch {
          // A malformed href stays as written.
        }
        out.push(href && !href.startsWith('javascript:') && !href.startsWith('#') ? `](${resolved})` : ']');
      }
    } else if (name === 'img') {
      const alt = attribute(token, 'alt');
      if (alt) out.push(`[image: ${alt}]`);
    } else if (name === 'strong' || name === 'b') {
      out.push('**');
    } else if (name === 'em' || name === 'i') {
      out.push('_');
    } else if (BLOCK.has(name)) {
      out.push('\n\n');
    }
  }
  return out
    .join('')
    .replace(/\[\s*\]\([^)]*\)/g, '')
    .replace(/[ \t]+\n/g, '\n')
    .replace(/\n (?=\S)/g, '\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}
