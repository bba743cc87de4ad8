/**
 * The "API keys" dialog (jwt mode, every signed-in user): the user's keys (name, prefix, created,
 * last used, expires), a form to create one with an optional expiry date — its secret is shown
 * once, with a copy button — and revoke with a confirmation. Failures show the server's message
 * in the dialog's own banner.
 */
import { ApiClient, describeError } from './api.js';
import { confirmAction } from './confirm.js';
import { byId, ErrorBanner, formatDateTime, h } from './dom.js';
import { ApiKeyCreatedSchema, ApiKeyListSchema, type ApiKey } from './protocol.js';
import { copyButton } from './rich.js';

export class ApiKeysPanel {
  readonly #dialog = byId<HTMLDialogElement>('api-keys-dialog');
  readonly #form = byId<HTMLFormElement>('api-key-form');
  readonly #name = byId<HTMLInputElement>('api-key-name');
  readonly #expiry = byId<HTMLInputElement>('api-key-expiry');
  readonly #create = byId<HTMLButtonElement>('api-key-create');
  readonly #rows = byId<HTMLTableSectionElement>('api-key-rows');
  readonly #table = byId<HTMLTableElement>('api-key-table');
  readonly #empty = byId('api-keys-empty');
  readonly #secretBox = byId('api-key-secret-box');
  readonly #secret = byId('api-key-secret');
  readonly #live = byId('api-keys-live');
  readonly #error = new ErrorBanner('api-keys-error');

  constructor(private readonly api: ApiClient) {
    byId('api-keys-close').addEventListener('click', () => this.#dialog.close());
    byId('api-key-secret-done').addEventListener('click', () => {
      this.#hideSecret();
      this.#name.focus();
    });
    byId('api-key-secret-copy-slot').replaceChildren(copyButton('Copy the new API key', () => this.#secret.textContent ?? '', { 'data-testid': 'api-key-copy' }));
    // The secret never outlives the dialog.
    this.#dialog.addEventListener('close', () => this.#hideSecret());
    this.#form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      void this.#createKey();
    });
  }

  async open(): Promise<void> {
    this.#error.clear();
    this.#hideSecret();
    this.#live.textContent = '';
    // A date input's minimum: today (the key expires at the end of the chosen day).
    this.#expiry.min = localDate(new Date());
    this.#dialog.showModal();
    this.#name.focus();
    await this.#reload();
  }

  close(): void {
    if (this.#dialog.open) this.#dialog.close();
  }

  async #reload(): Promise<void> {
    try {
      const answer = await this.api.json('GET', '/api-keys', ApiKeyListSchema);
      this.#render(answer.api_keys);
    } catch (err) {
      this.#error.show(`Could not load your API keys: ${describeError(err)}`);
    }
  }

  #render(keys: ApiKey[]): void {
    this.#table.hidden = keys.length === 0;
    this.#empty.hidden = keys.length > 0;
    this.#rows.replaceChildren(...keys.map((key) => this.#row(key)));
  }

  #row(key: ApiKey): HTMLTableRowElement {
    const expired = key.expires_at !== null && new Date(key.expires_at).getTime() <= Date.now();
    const revoke = h('button', { type: 'button', class: 'danger', 'data-testid': 'api-key-revoke', 'aria-label': `Revoke the key "${key.name}"` }, 'Revoke');
    revoke.addEventListener('click', () => void this.#revoke(key));
    return h(
      'tr',
      { 'data-testid': 'api-key-row', 'data-prefix': key.prefix },
      h('th', { scope: 'row' }, key.name),
      h('td', {}, h('code', { 'data-testid': 'api-key-prefix' }, `${key.prefix}…`)),
      h('td', {}, formatDateTime(key.created_at)),
      h('td', {}, formatDateTime(key.last_used_at, 'never')),
      h('td', {}, formatDateTime(key.expires_at, 'never'), expired ? h('span', { class: 'badge warn' }, 'expired') : null),
      h('td', {}, revoke),
    );
  }

  async #createKey(): Promise<void> {
    const name = this.#name.value.trim();
    if (!name) {
      this.#error.show('Give the key a name, e.g. the script or machine that will use it.');
      this.#name.focus();
      return;
    }
    const body: { name: string; expires_at?: string } = { name };
    if (this.#expiry.value) {
      // The end of the chosen day, in the reader's time zone.
      const end = new Date(`${this.#expiry.value}T23:59:59`);
      if (Number.isNaN(end.getTime())) {
        this.#error.show('The expiry date is not a valid date.');
        return;
      }
      body.expires_at = end.toISOString();
    }
    this.#error.clear();
    this.#create.disabled = true;
    try {
      const created = await this.api.json('POST', '/api-keys', ApiKeyCreatedSchema, body);
      this.#form.reset();
      this.#secret.textContent = created.key;
      byId('api-key-secret-name').textContent = created.name;
      this.#secretBox.hidden = false;
      this.#dialog.querySelector<HTMLButtonElement>('[data-testid=api-key-copy]')?.focus();
      await this.#reload();
    } catch (err) {
      this.#error.show(`Could not create the key: ${describeError(err)}`);
    } finally {
      this.#create.disabled = false;
    }
  }

  async #revoke(key: ApiKey): Promise<void> {
    const ok = await confirmAction({
      title: 'Revoke this API key?',
      message: `"${key.name}" (${key.prefix}…) stops working at once: every script or tool using it will be refused. This cannot be undone.`,
      confirm: 'Revoke key',
    });
    if (!ok) return;
    this.#error.clear();
    try {
      await this.api.send(`/api-keys/${encodeURIComponent(key.id)}`, { method: 'DELETE' });
      this.#live.textContent = `The key "${key.name}" was revoked.`;
      await this.#reload();
      this.#name.focus();
    } catch (err) {
      this.#error.show(`Could not revoke "${key.name}": ${describeError(err)}`);
    }
  }

  #hideSecret(): void {
    this.#secret.textContent = '';
    this.#secretBox.hidden = true;
  }
}

/** `YYYY-MM-DD` of `date` in the reader's time zone (what `<input type=date>` uses). */
function localDate(date: Date): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
}
