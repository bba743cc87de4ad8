/**
 * The file panel: uploads into `input/` (multipart, field `file`, `folder=input`) and lists both
 * folders; `output/` files download through an authenticated fetch, so it works in jwt mode too.
 */
import { ApiClient, describeError, UPLOAD_TIMEOUT_MS } from './api.js';
import { formatBytes, h } from './dom.js';
import { FileListSchema, type FileEntry } from './protocol.js';

type Folder = 'input' | 'output';

export interface FilePanelElements {
  upload: HTMLInputElement;
  status: HTMLElement;
  input: HTMLUListElement;
  output: HTMLUListElement;
  refresh: HTMLButtonElement;
}

export class FilePanel {
  #sessionId: string | null = null;
  /** Sub-folder shown per folder ('' = the folder itself). */
  readonly #path: Record<Folder, string> = { input: '', output: '' };
  #generation = 0;

  constructor(
    private readonly api: ApiClient,
    private readonly els: FilePanelElements,
    private readonly onError: (message: string) => void,
  ) {
    els.upload.addEventListener('change', () => void this.#uploadChosen());
    els.refresh.addEventListener('click', () => void this.refresh());
  }

  async open(sessionId: string | null): Promise<void> {
    this.#sessionId = sessionId;
    this.#path.input = '';
    this.#path.output = '';
    this.els.upload.disabled = sessionId === null;
    this.els.refresh.disabled = sessionId === null;
    await this.refresh();
  }

  async refresh(): Promise<void> {
    const generation = ++this.#generation;
    const id = this.#sessionId;
    if (!id) {
      this.els.input.replaceChildren();
      this.els.output.replaceChildren();
      return;
    }
    await Promise.all((['input', 'output'] as const).map(async (folder) => {
      const list = folder === 'input' ? this.els.input : this.els.output;
      try {
        const query = new URLSearchParams({ folder });
        if (this.#path[folder]) query.set('path', this.#path[folder]);
        const answer = await this.api.json('GET', `/sessions/${encodeURIComponent(id)}/files?${query}`, FileListSchema);
        // A slower answer for a session the user already left must not overwrite the new one.
        if (generation === this.#generation) this.#render(list, folder, answer.files);
      } catch (err) {
        if (generation === this.#generation) list.replaceChildren(h('li', { class: 'error-text' }, `Could not list ${folder}/: ${describeError(err)}`));
      }
    }));
  }

  async #uploadChosen(): Promise<void> {
    const id = this.#sessionId;
    const files = [...(this.els.upload.files ?? [])];
    this.els.upload.value = '';
    if (!id || files.length === 0) return;
    for (const file of files) {
      this.els.status.textContent = `Uploading ${file.name}…`;
      const form = new FormData();
      // The folder field goes first: the server reads fields that precede the file part.
      form.append('folder', 'input');
      form.append('file', file, file.name);
      try {
        await this.api.send(`/sessions/${encodeURIComponent(id)}/files`, { method: 'POST', body: form }, UPLOAD_TIMEOUT_MS);
        this.els.status.textContent = `Uploaded ${file.name}.`;
      } catch (err) {
        this.els.status.textContent = '';
        this.onError(`Upload of ${file.name} failed: ${describeError(err)}`);
      }
    }
    await this.refresh();
  }

  #render(list: HTMLUListElement, folder: Folder, entries: FileEntry[]): void {
    const items: HTMLElement[] = [];
    if (this.#path[folder]) {
      const up = h('button', { type: 'button', class: 'link' }, '⬑ up one folder');
      up.addEventListener('click', () => {
        this.#path[folder] = this.#path[folder].split('/').slice(0, -1).join('/');
        void this.refresh();
      });
      items.push(h('li', {}, up));
    }
    for (const entry of entries) items.push(this.#entry(folder, entry));
    if (entries.length === 0) items.push(h('li', { class: 'empty' }, `${folder}/ is empty.`));
    list.replaceChildren(...items);
  }

  #entry(folder: Folder, entry: FileEntry): HTMLElement {
    const relative = stripFolder(folder, entry.path);
    if (entry.type === 'folder') {
      const open = h('button', { type: 'button', class: 'link', 'aria-label': `Open folder ${entry.name}` }, `▸ ${entry.name}/`);
      open.addEventListener('click', () => {
        this.#path[folder] = relative;
        void this.refresh();
      });
      return h('li', { 'data-testid': 'file-item' }, open);
    }
    const name = h('span', { class: 'file-name' }, entry.name);
    const size = h('span', { class: 'file-size' }, formatBytes(entry.size));
    if (folder === 'input') return h('li', { 'data-testid': 'file-item' }, name, ' ', size);
    const download = h('button', { type: 'button', class: 'link', 'data-testid': 'file-download', 'aria-label': `Download ${entry.name}` }, 'Download');
    download.addEventListener('click', () => void this.#download(relative, entry.name));
    return h('li', { 'data-testid': 'file-item' }, name, ' ', size, ' ', download);
  }

  async #download(relative: string, name: string): Promise<void> {
    const id = this.#sessionId;
    if (!id) return;
    try {
      const path = relative.split('/').map(encodeURIComponent).join('/');
      const res = await this.api.send(`/sessions/${encodeURIComponent(id)}/files/output/${path}`, { method: 'GET' }, UPLOAD_TIMEOUT_MS);
      const url = URL.createObjectURL(await res.blob());
      const a = h('a', { href: url, download: name, hidden: true });
      document.body.append(a);
      a.click();
      a.remove();
      // Revoked on the next turn of the event loop, once the download has taken the blob.
      setTimeout(() => URL.revokeObjectURL(url), 0);
    } catch (err) {
      this.onError(`Download of ${name} failed: ${describeError(err)}`);
    }
  }
}

/** Entry paths are relative to the session root ("output/a/b.png") or to the folder; make them folder-relative. */
function stripFolder(folder: Folder, p: string): string {
  return p.startsWith(`${folder}/`) ? p.slice(folder.length + 1) : p;
}
