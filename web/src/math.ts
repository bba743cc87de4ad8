/**
 * LaTeX math with KaTeX, loaded on the first formula (a lazy chunk). KaTeX builds DOM nodes and
 * sets styles through the CSSOM, which the page's Content-Security-Policy allows; its stylesheet
 * and fonts are served from /katex/. A formula KaTeX cannot parse is shown as its source.
 */
import katex from 'katex';

let stylesheet: HTMLLinkElement | null = null;

/** Renders one formula into `el` (replacing its contents). */
export function renderMath(el: HTMLElement, tex: string, display: boolean): void {
  if (!stylesheet) {
    stylesheet = document.createElement('link');
    stylesheet.rel = 'stylesheet';
    stylesheet.href = '/katex/katex.min.css';
    document.head.append(stylesheet);
  }
  katex.render(tex, el, { displayMode: display, throwOnError: false, trust: false, output: 'htmlAndMathml' });
}
