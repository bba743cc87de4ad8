/**
 * The read-only page at `/share/{token}`: server-rendered HTML with every text escaped, no
 * script at all, and a Content-Security-Policy that allows nothing but its own inline style (by
 * hash). Text is shown as written (pre-wrapped), not rendered as Markdown, so nothing in a shared
 * message can load or run anything.
 */
import { createHash } from 'node:crypto';
import type { ShareSnapshot } from './snapshot.js';

const STYLE = `
body{font:16px/1.55 system-ui,sans-serif;margin:0;background:#f6f6f4;color:#1d1d1b}
main{max-width:52rem;margin:0 auto;padding:1.5rem 1rem 4rem}
header{border-bottom:1px solid #ddd;margin-bottom:1.5rem}
h1{font-size:1.5rem;margin:.2rem 0}
.note{color:#666;font-size:.85rem;margin:.2rem 0 1rem}
article{margin:1rem 0;padding:.75rem 1rem;border-radius:.5rem;background:#fff;border:1px solid #e4e4e0}
article.user{background:#eef3fb}
.who{font-weight:600;font-size:.85rem;color:#555;margin-bottom:.35rem}
.text{white-space:pre-wrap;overflow-wrap:anywhere}
pre{white-space:pre-wrap;overflow-wrap:anywhere;background:#f3f3f0;padding:.5rem;border-radius:.35rem;font-size:.85rem}
details{margin:.35rem 0}summary{cursor:pointer;color:#555}
`;

const STYLE_HASH = createHash('sha256').update(STYLE).digest('base64');

export const SHARE_PAGE_CSP = [
  "default-src 'none'",
  `style-src 'sha256-${STYLE_HASH}'`,
  "img-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
export const escapeHtml = (text: string): string => text.replace(/[&<>"']/g, (c) => ESCAPES[c]!);

function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex"><meta name="referrer" content="no-referrer">
<title>${escapeHtml(title)}</title><style>${STYLE}</style></head>
<body><main>${body}</main></body></html>
`;
}

function messageHtml(m: ShareSnapshot['messages'][number]): string {
  if (m.role === 'tool_call') {
    const args = escapeHtml(JSON.stringify(m.tool_arguments ?? {}, null, 2));
    const result = m.tool_result === null ? '' : `<pre>${escapeHtml(m.tool_result)}</pre>`;
    const state = m.status && m.status !== 'completed' ? ` (${escapeHtml(m.status)})` : '';
    return `<article class="tool"><details><summary>Tool: ${escapeHtml(m.tool_name ?? 'tool')}${state}</summary><pre>${args}</pre>${result}</details></article>`;
  }
  const who = m.role === 'user' ? 'User' : 'Assistant';
  const reasoning = m.reasoning ? `<details><summary>Reasoning</summary><div class="text">${escapeHtml(m.reasoning)}</div></details>` : '';
  const cut = m.status === 'interrupted' || m.status === 'failed' ? '<p class="note">This answer was cut short.</p>' : '';
  return `<article class="${m.role}"><div class="who">${who}</div>${reasoning}<div class="text">${escapeHtml(m.content ?? '')}</div>${cut}</article>`;
}

export function sharePage(snapshot: ShareSnapshot): string {
  const title = snapshot.title ?? 'Shared chat';
  const header = `<header><h1>${escapeHtml(title)}</h1><p class="note">A read-only copy shared from Pulp, as it was on ${escapeHtml(snapshot.shared_at.replace('T', ' ').slice(0, 16))} UTC.</p></header>`;
  return page(title, header + snapshot.messages.map(messageHtml).join('\n'));
}

export function missingSharePage(message: string): string {
  return page('Link not available', `<header><h1>Link not available</h1></header><p>${escapeHtml(message)}</p>`);
}
