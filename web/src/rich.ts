/**
 * What rendered markdown gets after it is in the page: code blocks with their language, a copy
 * button and syntax highlighting, tables that scroll sideways, and formulas typeset by KaTeX. The
 * highlighter and KaTeX are separate chunks, fetched the first time an answer needs them; until
 * then the code is plain and a formula shows its source.
 */
import { hydrateWorkspaceImages } from './workspace-media.js';
import { h } from './dom.js';

type Highlighter = typeof import('./highlight.js');
type MathRenderer = typeof import('./math.js');

let highlighter: Highlighter | undefined;
let highlighterLoading: Promise<Highlighter> | undefined;
let mathRenderer: MathRenderer | undefined;
let mathLoading: Promise<MathRenderer> | undefined;

/** Language names as the model writes them → the highlighter's names. */
const ALIASES: Record<string, string> = {
  js: 'javascript', jsx: 'javascript', mjs: 'javascript', ts: 'typescript', tsx: 'typescript', py: 'python', sh: 'bash', zsh: 'bash',
  console: 'shell', html: 'xml', svg: 'xml', yml: 'yaml', rs: 'rust', 'c++': 'cpp', golang: 'go', md: 'markdown', patch: 'diff',
};

/** Copies text to the clipboard and says so on the button for a moment. */
export function copyButton(label: string, text: () => string, attrs: Record<string, string> = {}): HTMLButtonElement {
  const button = h('button', { type: 'button', class: 'copy-button', 'aria-label': label, title: label, ...attrs }, 'Copy');
  button.addEventListener('click', () => {
    navigator.clipboard.writeText(text()).then(
      () => flash(button, 'Copied'),
      () => flash(button, 'Copy failed'),
    );
  });
  return button;
}

function flash(button: HTMLButtonElement, text: string): void {
  button.textContent = text;
  setTimeout(() => (button.textContent = 'Copy'), 1500);
}

/** Adds code-block chrome, highlighting, table wrappers and math to freshly rendered markdown in `root`. */
export function enhance(root: HTMLElement): void {
  const blocks = [...root.querySelectorAll<HTMLPreElement>('pre')].filter((pre) => pre.firstElementChild?.tagName === 'CODE');
  for (const pre of blocks) decorateCodeBlock(pre);
  for (const table of root.querySelectorAll('table')) {
    if (table.parentElement?.classList.contains('table-wrap')) continue;
    const wrap = h('div', { class: 'table-wrap', tabindex: '0', role: 'region', 'aria-label': 'Table' });
    table.replaceWith(wrap);
    wrap.append(table);
  }
  if (blocks.length > 0) highlightIn(root);
  if (root.querySelector('[data-tex]')) typesetIn(root);
  hydrateWorkspaceImages(root);
}

function languageOf(code: Element): string {
  const declared = /(?:^|\s)language-(\S+)/.exec(code.className)?.[1]?.toLowerCase() ?? '';
  return ALIASES[declared] ?? declared;
}

function decorateCodeBlock(pre: HTMLPreElement): void {
  const code = pre.firstElementChild as HTMLElement;
  const declared = /(?:^|\s)language-(\S+)/.exec(code.className)?.[1] ?? '';
  const head = h(
    'div',
    { class: 'code-head' },
    h('span', { class: 'code-lang', 'data-testid': 'code-language' }, declared || 'text'),
    copyButton(declared ? `Copy the ${declared} code` : 'Copy the code', () => (code.textContent ?? '').replace(/\n$/, ''), { 'data-testid': 'copy-code' }),
  );
  const block = h('div', { class: 'code-block', 'data-testid': 'code-block' }, head);
  pre.replaceWith(block);
  block.append(pre);
  pre.tabIndex = 0;
}

function highlightIn(root: HTMLElement): void {
  const apply = (module: Highlighter) => {
    for (const code of root.querySelectorAll<HTMLElement>('.code-block pre > code:not(.hljs)')) module.highlightCode(code, languageOf(code));
  };
  if (highlighter) return apply(highlighter);
  highlighterLoading ??= import('./highlight.js').then((module) => (highlighter = module));
  void highlighterLoading.then(apply, () => undefined);
}

function typesetIn(root: HTMLElement): void {
  const apply = (module: MathRenderer) => {
    for (const el of root.querySelectorAll<HTMLElement>('[data-tex]:not([data-typeset])')) {
      el.dataset.typeset = 'true';
      module.renderMath(el, el.dataset.tex ?? '', el.dataset.display === 'true');
    }
  };
  if (mathRenderer) return apply(mathRenderer);
  mathLoading ??= import('./math.js').then((module) => (mathRenderer = module));
  void mathLoading.then(apply, () => undefined);
}
