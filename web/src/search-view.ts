/**
 * The sidebar's search box: searches the user's chats as they type (debounced), shows the results
 * in place of the chat list — title, who said it, and the snippet with the matched words in
 * `<mark>` — and opens a result's chat at its message. Snippets are plain text with offsets from
 * the server; they are built as text nodes, never parsed as HTML.
 */
import { describeError, type ApiClient } from './api.js';
import { byId, h } from './dom.js';
import { SearchAnswerSchema, type SearchResult } from './protocol.js';

/** The wait after the last keystroke before a search is sent. */
const DEBOUNCE_MS = 250;
const PAGE = 20;

export interface SearchActions {
  /** Opens the chat of a result, at its message when there is one. */
  open(sessionId: string, messageId: string | null): void;
  /** Whether results are shown (the chat list hides while they are). */
  showing(active: boolean): void;
}

/** The snippet with its highlighted ranges in `<mark>`, as DOM nodes. */
export function highlighted(snippet: string, highlights: ReadonlyArray<readonly [number, number]>): Array<Node | string> {
  const out: Array<Node | string> = [];
  let at = 0;
  for (const [start, end] of highlights) {
    if (start < at || end <= start || end > snippet.length) continue;
    if (start > at) out.push(snippet.slice(at, start));
    out.push(h('mark', {}, snippet.slice(start, end)));
    at = end;
  }
  if (at < snippet.length) out.push(snippet.slice(at));
  return out;
}

export class SearchView {
  readonly #input = byId<HTMLInputElement>('search-input');
  readonly #results = byId<HTMLUListElement>('search-results');
  readonly #status = byId('search-status');
  readonly #more = byId<HTMLButtonElement>('search-more');
  #timer: ReturnType<typeof setTimeout> | undefined;
  #query = '';
  #cursor: string | null = null;
  /** Bumped by every new query, so an older answer arriving late is dropped. */
  #generation = 0;

  constructor(
    private readonly api: ApiClient,
    private readonly actions: SearchActions,
  ) {
    this.#input.addEventListener('input', () => {
      clearTimeout(this.#timer);
      this.#timer = setTimeout(() => void this.#search(this.#input.value.trim()), DEBOUNCE_MS);
    });
    this.#input.addEventListener('keydown', (ev) => {
      if (ev.key === 'Escape' && this.#input.value !== '') {
        ev.stopPropagation();
        this.clear();
      }
    });
    this.#more.addEventListener('click', () => void this.#page());
  }

  clear(): void {
    clearTimeout(this.#timer);
    this.#input.value = '';
    void this.#search('');
  }

  async #search(query: string): Promise<void> {
    this.#generation += 1;
    this.#query = query;
    this.#cursor = null;
    this.#results.replaceChildren();
    this.#more.hidden = true;
    const active = query !== '';
    this.#results.hidden = !active;
    this.#status.textContent = '';
    this.actions.showing(active);
    if (active) await this.#page();
  }

  async #page(): Promise<void> {
    const generation = this.#generation;
    const params = new URLSearchParams({ q: this.#query, limit: String(PAGE) });
    if (this.#cursor) params.set('cursor', this.#cursor);
    this.#status.textContent = 'Searching…';
    try {
      const answer = await this.api.json('GET', `/search?${params}`, SearchAnswerSchema);
      if (generation !== this.#generation) return;
      this.#results.append(...answer.results.map((r) => this.#item(r)));
      this.#cursor = answer.next_cursor;
      this.#more.hidden = answer.next_cursor === null;
      const shown = this.#results.childElementCount;
      this.#status.textContent = shown === 0 ? 'No chats match.' : `${shown}${answer.next_cursor ? '+' : ''} result${shown === 1 ? '' : 's'}`;
    } catch (err) {
      if (generation === this.#generation) this.#status.textContent = `Search failed: ${describeError(err)}`;
    }
  }

  #item(r: SearchResult): HTMLLIElement {
    const who = r.message_id === null ? 'Title' : r.role === 'user' ? 'You' : 'Assistant';
    const open = h(
      'button',
      { type: 'button', class: 'search-hit', 'data-testid': 'search-result', 'data-session-id': r.session_id, 'data-message-id': r.message_id ?? undefined },
      h('span', { class: 'search-hit-title' }, r.title?.trim() || 'New chat', r.archived ? h('span', { class: 'muted' }, ' (archived)') : null),
      h('span', { class: 'search-hit-snippet' }, h('span', { class: 'muted' }, `${who}: `), ...highlighted(r.snippet, r.highlights)),
    );
    open.addEventListener('click', () => this.actions.open(r.session_id, r.message_id));
    return h('li', {}, open);
  }
}
