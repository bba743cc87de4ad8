/** A tiny element builder: the client has no framework, and every node is built from text, never from HTML strings. */

type Attrs = Record<string, string | boolean | undefined>;
type Child = Node | string | null | undefined | false;

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === false) continue;
    el.setAttribute(name, value === true ? '' : value);
  }
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child);
  }
  return el;
}

/** The element with this id; throws at startup if index.html and the code disagree. */
export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (!el) throw new Error(`index.html has no #${id}`);
  return el as T;
}

export function formatBytes(n: number | null | undefined): string {
  if (n === null || n === undefined) return '';
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}

/** A date and time from the server (ISO 8601) in the reader's locale; `fallback` for null. */
export function formatDateTime(iso: string | null, fallback = '—'): string {
  if (!iso) return fallback;
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}

/**
 * A dialog's error banner: `{id}` (hidden when empty), its text `{id}-text` and a dismiss button
 * `{id}-dismiss`.
 */
export class ErrorBanner {
  readonly #box: HTMLElement;
  readonly #text: HTMLElement;

  constructor(id: string) {
    this.#box = byId(id);
    this.#text = byId(`${id}-text`);
    byId(`${id}-dismiss`).addEventListener('click', () => this.clear());
  }

  show(message: string): void {
    this.#text.textContent = message;
    this.#box.hidden = false;
  }

  clear(): void {
    this.#box.hidden = true;
    this.#text.textContent = '';
  }
}
