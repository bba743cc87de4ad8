/**
 * Markdown to safe HTML: marked renders (GitHub tables, fenced code, and LaTeX math as
 * placeholders), DOMPurify removes anything executable. Raw HTML in the model's text is escaped by
 * marked's own renderer hook, so a model can show HTML but never run it. The placeholders and code
 * blocks are brought to life afterwards by `rich.ts`.
 */
import DOMPurify from 'dompurify';
import { Marked, type TokenizerAndRendererExtension, type Tokens } from 'marked';
import { workspacePathOf } from './workspace-media.js';

function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** A formula's placeholder: `rich.ts` renders `data-tex` with KaTeX. */
function mathPlaceholder(tex: string, display: boolean): string {
  const tag = display ? 'div' : 'span';
  return `<${tag} class="math ${display ? 'math-display' : 'math-inline'}" data-tex="${escapeHtml(tex)}" data-display="${String(display)}">${escapeHtml(tex)}</${tag}>`;
}

function texOf(token: Tokens.Generic): string {
  const tex: unknown = token['tex'];
  return typeof tex === 'string' ? tex : '';
}

/** `$$…$$` and `\[…\]` on lines of their own. */
const blockMath: TokenizerAndRendererExtension = {
  name: 'blockMath',
  level: 'block',
  start: (src) => /\$\$|\\\[/.exec(src)?.index,
  tokenizer(src) {
    const m = /^(?:\$\$([\s\S]+?)\$\$|\\\[([\s\S]+?)\\\])[ \t]*(?:\n+|$)/.exec(src);
    if (!m) return undefined;
    return { type: 'blockMath', raw: m[0], tex: (m[1] ?? m[2] ?? '').trim() };
  },
  renderer: (token) => mathPlaceholder(texOf(token), true),
};

/** `$…$`, `\(…\)` inline, and `$$…$$`, `\[…\]` inside a paragraph. A `$` before a digit or a space is a price, not math. */
const inlineMath: TokenizerAndRendererExtension = {
  name: 'inlineMath',
  level: 'inline',
  start: (src) => /\$|\\\(|\\\[/.exec(src)?.index,
  tokenizer(src) {
    const display = /^\$\$([\s\S]+?)\$\$|^\\\[([\s\S]+?)\\\]/.exec(src);
    if (display) return { type: 'inlineMath', raw: display[0], tex: (display[1] ?? display[2] ?? '').trim(), display: true };
    const inline = /^\\\(([\s\S]+?)\\\)|^\$(?![\s$])((?:\\\$|[^$\n])+?)(?<!\s)\$(?!\d)/.exec(src);
    if (inline) return { type: 'inlineMath', raw: inline[0], tex: (inline[1] ?? inline[2] ?? '').trim(), display: false };
    return undefined;
  },
  renderer: (token) => mathPlaceholder(texOf(token), token['display'] === true),
};

const marked = new Marked({
  gfm: true,
  breaks: true,
  extensions: [blockMath, inlineMath],
  renderer: {
    // Raw HTML from the model is shown as text, not interpreted.
    html({ text }) {
      return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
    },
  },
});

/** Sanitized HTML for `text`. Links open in a new tab without handing it the opener. */
export function renderMarkdown(text: string): string {
  const html = marked.parse(text, { async: false });
  return DOMPurify.sanitize(html, { USE_PROFILES: { html: true } });
}

DOMPurify.addHook('afterSanitizeAttributes', (node) => {
  // Only images of the chat's own workspace are shown (loaded later through the files API);
  // any other source (another site, a data: URL) would leak the reader's visit or smuggle content.
  if (node.tagName === 'IMG') {
    const path = workspacePathOf(node.getAttribute('src') ?? '');
    node.removeAttribute('src');
    node.removeAttribute('srcset');
    if (path) node.setAttribute('data-workspace-path', path);
    else node.replaceWith(document.createTextNode(`[image: ${node.getAttribute('alt') ?? ''}]`));
    return;
  }
  if (node.tagName === 'A') {
    node.setAttribute('target', '_blank');
    node.setAttribute('rel', 'noopener noreferrer');
  }
});
