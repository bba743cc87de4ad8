import { describe, expect, it } from 'vitest';
import { decodeEntities, htmlTitle, htmlToText } from '../../src/mcp/html-to-text.js';

describe('HTML turned into readable text', () => {
  it('keeps headings, lists, links, emphasis and code; drops scripts, styles and navigation', () => {
    const html = `<!doctype html><html><head><title>T &amp; C</title><style>p{}</style></head><body>
      <nav><a href="/home">Home</a></nav>
      <h2>Steps</h2><ul><li>one</li><li><em>two</em></li></ul>
      <p>See <a href="docs/x">the docs</a> and <code>npm ci</code>.</p>
      <pre>line 1
  line 2</pre><script>alert(1)</script><!-- secret comment --></body></html>`;
    const text = htmlToText(html, 'https://example.com/a/');
    expect(text).toBe('## Steps\n\n- one\n- _two_\n\nSee [the docs](https://example.com/a/docs/x) and `npm ci`.\n\n```\nline 1\n  line 2\n```');
    expect(htmlTitle(html)).toBe('T & C');
  });

  it('decodes named and numeric entities and leaves unknown ones alone', () => {
    expect(decodeEntities('&lt;a&gt; &#233; &#x1F600; &nbsp;&bogus;')).toBe('<a> é 😀  &bogus;');
  });

  it('tables become rows of cells', () => {
    expect(htmlToText('<table><tr><th>a</th><th>b</th></tr><tr><td>1</td><td>2</td></tr></table>')).toBe('| a | b |\n| 1 | 2 |');
  });
});
