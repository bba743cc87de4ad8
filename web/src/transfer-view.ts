/**
 * Export, import and share links. The "Share / export" dialog of the open chat: download it as
 * JSON or Markdown, make a read-only link (copy it; the link is shown in full only right after it
 * is made, as the server keeps only a fingerprint), list and revoke links. "Import chats…" in the
 * sidebar sends a file (Pulp, ChatGPT, Open WebUI or LibreChat JSON) and opens what it made.
 */
import { ApiClient, describeError, UPLOAD_TIMEOUT_MS } from './api.js';
import { confirmAction } from './confirm.js';
import { byId, ErrorBanner, formatDateTime, h } from './dom.js';
import { CreatedShareSchema, ImportResultSchema, ShareListSchema, type Share } from './protocol.js';
import { copyButton } from './rich.js';

export interface TransferHost {
  /** The chat the dialog is about (null: a blank chat, nothing to export yet). */
  currentSessionId(): string | null;
  /** Reloads the chat list and opens the first imported chat. */
  showImported(sessionIds: string[]): Promise<void>;
  showError(message: string): void;
}

/** The file name the server chose, from `Content-Disposition`. */
function fileNameOf(res: Response, fallback: string): string {
  const header = res.headers.get('content-disposition') ?? '';
  return /filename="([^"]+)"/.exec(header)?.[1] ?? fallback;
}

export class TransferPanel {
  readonly #dialog = byId<HTMLDialogElement>('transfer-dialog');
  readonly #list = byId<HTMLUListElement>('share-list');
  readonly #empty = byId('share-empty');
  readonly #created = byId('share-created');
  readonly #createdUrl = byId<HTMLInputElement>('share-created-url');
  readonly #live = byId('transfer-live');
  readonly #error = new ErrorBanner('transfer-error');
  readonly #file = byId<HTMLInputElement>('import-file');

  constructor(
    private readonly api: ApiClient,
    private readonly host: TransferHost,
    private readonly sharing: boolean,
  ) {
    byId('transfer-close').addEventListener('click', () => this.#dialog.close());
    byId('export-json').addEventListener('click', () => void this.#download('json'));
    byId('export-markdown').addEventListener('click', () => void this.#download('markdown'));
    byId('share-create').addEventListener('click', () => void this.#createShare());
    byId('share-created-copy-slot').replaceChildren(copyButton('Copy the share link', () => this.#createdUrl.value, { 'data-testid': 'share-copy' }));
    byId('share-section').hidden = !sharing;
    byId('share-open').addEventListener('click', () => void this.open());
    byId('import-open').addEventListener('click', () => this.#file.click());
    this.#file.addEventListener('change', () => void this.#import());
  }

  async open(): Promise<void> {
    const id = this.host.currentSessionId();
    if (!id) {
      this.host.showError('Send a first message: a blank chat has nothing to export or share yet.');
      return;
    }
    this.#error.clear();
    this.#live.textContent = '';
    this.#created.hidden = true;
    this.#dialog.showModal();
    if (this.sharing) await this.#reload(id);
  }

  close(): void {
    if (this.#dialog.open) this.#dialog.close();
  }

  async #download(format: 'json' | 'markdown'): Promise<void> {
    const id = this.host.currentSessionId();
    if (!id) return;
    try {
      const res = await this.api.send(`/sessions/${encodeURIComponent(id)}/export?format=${format}`, { method: 'GET' });
      const url = URL.createObjectURL(await res.blob());
      const link = h('a', { href: url, download: fileNameOf(res, `pulp-chat.${format === 'json' ? 'json' : 'md'}`), hidden: '' });
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(url), 60_000);
      this.#live.textContent = `Downloaded ${format === 'json' ? 'JSON' : 'Markdown'}.`;
    } catch (err) {
      this.#error.show(`Could not export the chat: ${describeError(err)}`);
    }
  }

  async #reload(id: string): Promise<void> {
    try {
      const { shares } = await this.api.json('GET', `/sessions/${encodeURIComponent(id)}/shares`, ShareListSchema);
      this.#render(id, shares);
    } catch (err) {
      this.#error.show(`Could not load the share links: ${describeError(err)}`);
    }
  }

  #render(id: string, shares: Share[]): void {
    this.#empty.hidden = shares.length > 0;
    this.#list.replaceChildren(
      ...shares.map((s) => {
        const revoke = h('button', { type: 'button', class: 'danger', 'data-testid': 'share-revoke', 'aria-label': `Revoke the link of ${formatDateTime(s.created_at)}` }, 'Revoke');
        revoke.addEventListener('click', () => void this.#revoke(id, s));
        return h('li', { class: 'share-item', 'data-testid': 'share-item' }, h('span', {}, `${formatDateTime(s.created_at)} · ${s.message_count} messages`), revoke);
      }),
    );
  }

  async #createShare(): Promise<void> {
    const id = this.host.currentSessionId();
    if (!id) return;
    try {
      const share = await this.api.json('POST', `/sessions/${encodeURIComponent(id)}/shares`, CreatedShareSchema);
      this.#createdUrl.value = new URL(share.url, location.origin).href;
      this.#created.hidden = false;
      this.#createdUrl.select();
      this.#live.textContent = 'Share link created. Copy it now: it is shown only once.';
      await this.#reload(id);
    } catch (err) {
      this.#error.show(`Could not create a share link: ${describeError(err)}`);
    }
  }

  async #revoke(id: string, share: Share): Promise<void> {
    const ok = await confirmAction({ title: 'Revoke this link?', message: 'Anyone who has it will no longer see the chat.', confirm: 'Revoke link' });
    if (!ok) return;
    try {
      await this.api.send(`/sessions/${encodeURIComponent(id)}/shares/${encodeURIComponent(share.id)}`, { method: 'DELETE' });
      this.#created.hidden = true;
      this.#live.textContent = 'Link revoked.';
      await this.#reload(id);
    } catch (err) {
      this.#error.show(`Could not revoke the link: ${describeError(err)}`);
    }
  }

  async #import(): Promise<void> {
    const file = this.#file.files?.[0];
    this.#file.value = '';
    if (!file) return;
    const form = new FormData();
    form.append('file', file, file.name);
    try {
      const res = await this.api.send('/sessions/import', { method: 'POST', body: form }, UPLOAD_TIMEOUT_MS);
      const parsed = ImportResultSchema.safeParse(await res.json());
      if (!parsed.success) throw new Error('The server answered the import in a shape this page does not understand.');
      await this.host.showImported(parsed.data.session_ids);
    } catch (err) {
      this.host.showError(`Could not import ${file.name}: ${describeError(err)}`);
    }
  }
}
