/**
 * The administration dialog (administrators only, jwt mode): every account in a table with a
 * debounced search, pages of PAGE_SIZE, a role switch, disable / enable, and delete after a
 * confirmation that says the user's chats and files go too. The server's refusals — above all
 * 409 `RES_3006`, "the last administrator" — show in the dialog's banner with its message.
 * Each row shows the user's budgets; below the table, everyone's usage (`admin-usage-view.ts`).
 */
import { ApiClient, describeError } from './api.js';
import { confirmAction } from './confirm.js';
import { AdminUsage, budgetText } from './admin-usage-view.js';
import { editBudget } from './budget-editor.js';
import { byId, ErrorBanner, formatDateTime, h } from './dom.js';
import { AdminUserPageSchema, AdminUserSchema, type AdminUser, type Me, type QuotaOverride } from './protocol.js';

export const PAGE_SIZE = 20;
/** The search waits this long after the last keystroke. */
export const SEARCH_DEBOUNCE_MS = 300;

export interface AdminPanelHooks {
  /** Who is signed in (their own row is marked, and changing their own role re-reads /auth/me). */
  me(): Me | null;
  /** The signed-in administrator changed their own role: the app re-reads who they are. */
  selfChanged(): void;
}

export class AdminPanel {
  readonly #dialog = byId<HTMLDialogElement>('admin-dialog');
  readonly #search = byId<HTMLInputElement>('admin-search');
  readonly #rows = byId<HTMLTableSectionElement>('admin-rows');
  readonly #summary = byId('admin-summary');
  readonly #live = byId('admin-live');
  readonly #prev = byId<HTMLButtonElement>('admin-prev');
  readonly #next = byId<HTMLButtonElement>('admin-next');
  readonly #error = new ErrorBanner('admin-error');
  readonly #usage: AdminUsage;
  #offset = 0;
  #query = '';
  #debounce: ReturnType<typeof setTimeout> | undefined;
  /** Only the newest list request may render (a slow answer to an older search is dropped). */
  #generation = 0;
  #pending: AbortController | null = null;

  constructor(
    private readonly api: ApiClient,
    private readonly hooks: AdminPanelHooks,
  ) {
    this.#usage = new AdminUsage(api, this.#error);
    byId('admin-close').addEventListener('click', () => this.#dialog.close());
    this.#search.addEventListener('input', () => {
      clearTimeout(this.#debounce);
      this.#debounce = setTimeout(() => {
        this.#query = this.#search.value.trim();
        this.#offset = 0;
        void this.reload();
      }, SEARCH_DEBOUNCE_MS);
    });
    // Enter searches at once.
    this.#search.addEventListener('keydown', (ev) => {
      if (ev.key !== 'Enter') return;
      ev.preventDefault();
      clearTimeout(this.#debounce);
      this.#query = this.#search.value.trim();
      this.#offset = 0;
      void this.reload();
    });
    this.#prev.addEventListener('click', () => this.#page(-1));
    this.#next.addEventListener('click', () => this.#page(1));
    this.#dialog.addEventListener('close', () => {
      clearTimeout(this.#debounce);
      this.#pending?.abort();
    });
  }

  async open(): Promise<void> {
    this.#error.clear();
    this.#live.textContent = '';
    this.#dialog.showModal();
    this.#search.focus();
    await Promise.all([this.reload(), this.#usage.reload()]);
  }

  close(): void {
    if (this.#dialog.open) this.#dialog.close();
  }

  /** Loads the current page of the current search. */
  async reload(): Promise<void> {
    const generation = ++this.#generation;
    this.#pending?.abort();
    const pending = new AbortController();
    this.#pending = pending;
    const params = new URLSearchParams({ offset: String(this.#offset), limit: String(PAGE_SIZE) });
    if (this.#query) params.set('q', this.#query);
    this.#rows.setAttribute('aria-busy', 'true');
    try {
      const page = await this.api.json('GET', `/admin/users?${params}`, AdminUserPageSchema, undefined, pending.signal);
      if (generation !== this.#generation) return;
      // The last user of a page was deleted: show the page before.
      if (page.users.length === 0 && this.#offset > 0 && page.pagination.total_count > 0) {
        this.#offset = Math.max(0, this.#offset - PAGE_SIZE);
        return this.reload();
      }
      this.#rows.replaceChildren(...(page.users.length ? page.users.map((u) => this.#row(u)) : [this.#emptyRow()]));
      const { total_count: total } = page.pagination;
      const first = page.users.length ? this.#offset + 1 : 0;
      const last = this.#offset + page.users.length;
      const matching = this.#query ? ` matching "${this.#query}"` : '';
      this.#summary.textContent = total === 0 ? `No users${matching}.` : `Users ${first}–${last} of ${total}${matching}.`;
      this.#prev.disabled = this.#offset === 0;
      this.#next.disabled = !page.pagination.has_more;
    } catch (err) {
      if (pending.signal.aborted || generation !== this.#generation) return;
      this.#error.show(`Could not load the users: ${describeError(err)}`);
    } finally {
      if (generation === this.#generation) this.#rows.removeAttribute('aria-busy');
    }
  }

  #page(step: 1 | -1): void {
    this.#offset = Math.max(0, this.#offset + step * PAGE_SIZE);
    void this.reload().then(() => {
      // Keep the keyboard where it was, unless that button just became disabled.
      const button = step === 1 ? this.#next : this.#prev;
      if (button.disabled) (step === 1 ? this.#prev : this.#next).focus();
    });
  }

  #emptyRow(): HTMLTableRowElement {
    return h('tr', {}, h('td', { colspan: '8', class: 'empty' }, this.#query ? 'No user matches this search.' : 'No users yet.'));
  }

  #row(user: AdminUser): HTMLTableRowElement {
    const me = this.hooks.me();
    const isMe = me?.id === user.id;
    const who = user.email;
    const role = h(
      'select',
      { 'data-testid': 'admin-role', 'aria-label': `Role of ${who}` },
      h('option', { value: 'user', selected: user.role === 'user' }, 'User'),
      h('option', { value: 'admin', selected: user.role === 'admin' }, 'Administrator'),
    );
    role.addEventListener('change', () => void this.#update(user, { role: role.value === 'admin' ? 'admin' : 'user' }, 'admin-role'));
    const toggle = h(
      'button',
      { type: 'button', 'data-testid': 'admin-toggle-disabled', 'aria-label': `${user.disabled ? 'Enable' : 'Disable'} ${who}` },
      user.disabled ? 'Enable' : 'Disable',
    );
    toggle.addEventListener('click', () => void this.#toggleDisabled(user));
    const budget = h('button', { type: 'button', class: 'link', 'data-testid': 'admin-edit-budget', 'aria-label': `Edit the budget of ${who}` }, 'Edit');
    budget.addEventListener('click', () => void this.#editBudget(user));
    const remove = h('button', { type: 'button', class: 'danger', 'data-testid': 'admin-delete', 'aria-label': `Delete ${who}` }, 'Delete');
    remove.addEventListener('click', () => void this.#remove(user));
    return h(
      'tr',
      { 'data-testid': 'admin-user-row', 'data-email': user.email, 'data-user-id': user.id, class: user.disabled ? 'disabled-user' : undefined },
      h('th', { scope: 'row' }, user.email, isMe ? h('span', { class: 'muted' }, ' (you)') : null),
      h('td', {}, user.display_name ?? '—'),
      h('td', {}, role),
      h('td', { 'data-testid': 'admin-user-status' }, user.disabled ? h('span', { class: 'badge warn' }, 'Disabled') : 'Active'),
      h('td', { class: 'num' }, String(user.session_count)),
      h('td', {}, h('span', { 'data-testid': 'admin-user-budget' }, budgetText(user.budgets)), ' ', budget),
      h('td', {}, formatDateTime(user.created_at)),
      h('td', { class: 'row-actions' }, toggle, remove),
    );
  }

  async #toggleDisabled(user: AdminUser): Promise<void> {
    if (!user.disabled) {
      const ok = await confirmAction({
        title: `Disable ${user.email}?`,
        message: `${user.email} is signed out everywhere at once: open chats close, and their API keys stop working. Their chats and files are kept; you can enable the account again.`,
        confirm: 'Disable account',
      });
      if (!ok) return;
    }
    await this.#update(user, { disabled: !user.disabled }, 'admin-toggle-disabled');
  }

  async #editBudget(user: AdminUser): Promise<void> {
    const quota = await editBudget(user.email, user.quota ?? {});
    if (quota) await this.#update(user, { quota }, 'admin-edit-budget');
    else this.#findRow(user.id)?.querySelector<HTMLElement>('[data-testid=admin-edit-budget]')?.focus();
  }

  async #update(user: AdminUser, body: { role?: 'admin' | 'user'; disabled?: boolean; quota?: QuotaOverride }, focusTestId: string): Promise<void> {
    this.#error.clear();
    try {
      const updated = await this.api.json('PATCH', `/admin/users/${encodeURIComponent(user.id)}`, AdminUserSchema, body);
      this.#replaceRow(user.id, this.#row(updated), focusTestId);
      this.#live.textContent =
        body.role !== undefined
          ? `${updated.email} is now ${updated.role === 'admin' ? 'an administrator' : 'a user'}.`
          : body.quota !== undefined
            ? `The budget of ${updated.email} is now: ${budgetText(updated.budgets)}.`
            : `${updated.email} is ${updated.disabled ? 'disabled' : 'enabled'}.`;
      if (this.hooks.me()?.id === user.id) this.hooks.selfChanged();
    } catch (err) {
      // Put the row back to what the server has (a refused role switch must not stay selected).
      this.#replaceRow(user.id, this.#row(user), focusTestId);
      this.#error.show(`Could not change ${user.email}: ${describeError(err)}`);
    }
  }

  async #remove(user: AdminUser): Promise<void> {
    const chats = user.session_count === 1 ? '1 chat' : `${user.session_count} chats`;
    const ok = await confirmAction({
      title: `Delete ${user.email}?`,
      message: `This deletes the account and everything it owns: ${chats} with their messages and files, its API keys and sign-ins. It cannot be undone.`,
      confirm: 'Delete user',
    });
    if (!ok) return;
    this.#error.clear();
    try {
      await this.api.send(`/admin/users/${encodeURIComponent(user.id)}`, { method: 'DELETE' });
      this.#live.textContent = `${user.email} was deleted.`;
      await this.reload();
      this.#search.focus();
    } catch (err) {
      this.#error.show(`Could not delete ${user.email}: ${describeError(err)}`);
    }
  }

  #findRow(userId: string): HTMLElement | undefined {
    return [...this.#rows.querySelectorAll<HTMLElement>('[data-testid=admin-user-row]')].find((r) => r.dataset.userId === userId);
  }

  #replaceRow(userId: string, row: HTMLTableRowElement, focusTestId: string): void {
    const old = this.#findRow(userId);
    if (!old) return;
    old.replaceWith(row);
    row.querySelector<HTMLElement>(`[data-testid=${focusTestId}]`)?.focus();
  }
}
