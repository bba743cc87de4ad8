/**
 * The sidebar list of sessions, grouped: Pinned, Today, Yesterday, Previous 7 days, Older (by last
 * use). Open, pin, rename (inline, Enter saves, Escape cancels) and delete (after a confirm). It
 * only renders and reports intents; the app does the requests.
 */
import { h } from './dom.js';
import type { Session } from './protocol.js';

export interface SessionListActions {
  open(sessionId: string): void;
  pin(session: Session): void;
  rename(session: Session, title: string): void;
  /** Archives the session, or brings an archived one back. */
  archive(session: Session): void;
  remove(session: Session): void;
}

export function sessionLabel(s: Session): string {
  return s.title?.trim() || 'New chat';
}

export class SessionList {
  #sessions: Session[] = [];
  #current: string | null = null;
  /** What an empty list says ("No chats yet.", or of the archive). */
  emptyText = 'No chats yet.';

  constructor(
    private readonly list: HTMLUListElement,
    private readonly actions: SessionListActions,
  ) {}

  get sessions(): readonly Session[] {
    return this.#sessions;
  }

  show(sessions: Session[], current: string | null): void {
    this.#sessions = sessions;
    this.#current = current;
    const groups = groupSessions(sessions, new Date());
    this.list.replaceChildren(
      ...groups.map(([name, members], i) => {
        const id = `session-group-${i}`;
        return h(
          'li',
          { class: 'session-group', 'data-testid': 'session-group' },
          h('h2', { id, class: 'session-group-name' }, name),
          h('ul', { class: 'session-group-list', 'aria-labelledby': id }, ...members.map((s) => this.#item(s))),
        );
      }),
    );
    if (sessions.length === 0) this.list.append(h('li', { class: 'empty' }, this.emptyText));
  }

  /** The id of the chat `step` places after (or before) `from` in the order shown. */
  neighbour(from: string | null, step: 1 | -1): string | null {
    const order = groupSessions(this.#sessions, new Date()).flatMap(([, members]) => members.map((s) => s.session_id));
    if (order.length === 0) return null;
    const at = from === null ? -1 : order.indexOf(from);
    if (at === -1) return order[step === 1 ? 0 : order.length - 1] ?? null;
    return order[Math.min(order.length - 1, Math.max(0, at + step))] ?? null;
  }

  /**
   * Applies what a `session_updated` event changed to one chat's entry, keeping the rest as listed:
   * the entry may be newer than the open chat's copy (its approval badge, say).
   */
  merge(sessionId: string, changes: Partial<Pick<Session, 'title'>>): void {
    this.show(
      this.#sessions.map((s) => (s.session_id === sessionId ? { ...s, ...changes } : s)),
      this.#current,
    );
  }

  /** Replaces one session (after a PATCH) without a reload. */
  update(session: Session): void {
    this.show(
      this.#sessions.map((s) => (s.session_id === session.session_id ? session : s)),
      this.#current,
    );
  }

  #item(s: Session): HTMLLIElement {
    const label = sessionLabel(s);
    const open = h(
      'button',
      { type: 'button', class: 'session-open', 'data-testid': 'session-open', 'aria-current': s.session_id === this.#current ? 'page' : undefined },
      s.pinned ? h('span', { class: 'pin-mark', 'aria-label': 'pinned' }, '★ ') : null,
      label,
      s.pending_approvals ? h('span', { class: 'approval-badge', 'data-testid': 'approval-badge', title: 'A tool call waits for your approval' }, ` ${s.pending_approvals} to approve`) : null,
    );
    open.addEventListener('click', () => this.actions.open(s.session_id));

    const pin = h(
      'button',
      { type: 'button', class: 'icon', 'data-testid': 'session-pin', 'aria-pressed': String(s.pinned), 'aria-label': `${s.pinned ? 'Unpin' : 'Pin'} ${label}`, title: s.pinned ? 'Unpin' : 'Pin' },
      s.pinned ? '★' : '☆',
    );
    pin.addEventListener('click', () => this.actions.pin(s));

    const rename = h('button', { type: 'button', class: 'icon', 'data-testid': 'session-rename', 'aria-label': `Rename ${label}`, title: 'Rename' }, '✎');
    rename.addEventListener('click', () => this.#startRename(li, open, s));

    const archive = h(
      'button',
      { type: 'button', class: 'icon', 'data-testid': 'session-archive', 'aria-label': `${s.archived ? 'Unarchive' : 'Archive'} ${label}`, title: s.archived ? 'Unarchive' : 'Archive' },
      s.archived ? '⇪' : '⇩',
    );
    archive.addEventListener('click', () => this.actions.archive(s));

    const remove = h('button', { type: 'button', class: 'icon danger', 'data-testid': 'session-delete', 'aria-label': `Delete ${label}`, title: 'Delete' }, '✕');
    remove.addEventListener('click', () => {
      if (confirm(`Delete "${label}" and its files? This cannot be undone.`)) this.actions.remove(s);
    });

    const li = h('li', { class: 'session-item', 'data-testid': 'session-item', 'data-session-id': s.session_id }, open, h('span', { class: 'session-actions' }, pin, rename, archive, remove));
    return li;
  }

  #startRename(li: HTMLLIElement, open: HTMLButtonElement, s: Session): void {
    const input = h('input', { type: 'text', class: 'rename-input', 'data-testid': 'rename-input', 'aria-label': 'New title', maxlength: '200', value: s.title ?? '' });
    let done = false;
    const finish = (save: boolean) => {
      if (done) return;
      done = true;
      const title = input.value.trim();
      input.replaceWith(open);
      open.focus();
      if (save && title && title !== s.title) this.actions.rename(s, title);
    };
    input.addEventListener('keydown', (ev) => {
      if (ev.key === 'Enter') {
        ev.preventDefault();
        finish(true);
      } else if (ev.key === 'Escape') {
        ev.preventDefault();
        ev.stopPropagation();
        finish(false);
      }
    });
    input.addEventListener('blur', () => finish(true));
    open.replaceWith(input);
    li.classList.add('renaming');
    input.focus();
    input.select();
  }
}

const DAY_MS = 24 * 60 * 60 * 1000;

/** Sessions in display groups, each group in the server's order (most recently used first). */
export function groupSessions(sessions: readonly Session[], now: Date): Array<[string, Session[]]> {
  const startOfToday = new Date(now.getFullYear(), now.getMonth(), now.getDate()).getTime();
  const names = ['Pinned', 'Today', 'Yesterday', 'Previous 7 days', 'Older'] as const;
  const groups = new Map<string, Session[]>(names.map((n) => [n, []]));
  for (const s of sessions) {
    const used = Date.parse(s.last_used_at);
    const name = s.pinned ? 'Pinned' : used >= startOfToday ? 'Today' : used >= startOfToday - DAY_MS ? 'Yesterday' : used >= startOfToday - 7 * DAY_MS ? 'Previous 7 days' : 'Older';
    groups.get(name)?.push(s);
  }
  return [...groups].filter(([, members]) => members.length > 0);
}
