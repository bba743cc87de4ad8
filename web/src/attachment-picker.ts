/**
 * The Attach button of the message box: lists the chat's `input/` files, and the ones chosen ride on
 * the next message as `attachments` (images go to the model as images). Chosen files show as
 * removable chips above the box until the message is sent.
 */
import { describeError, type ApiClient } from './api.js';
import { byId, h } from './dom.js';
import { FileListSchema } from './protocol.js';

/** As many files as the server takes on one message. */
export const MAX_ATTACHMENTS = 10;

export class AttachmentPicker {
  readonly #button = h('button', { type: 'button', class: 'attach-button', 'data-testid': 'attach', title: 'Attach files of this chat to the next message', 'aria-expanded': 'false' }, 'Attach');
  readonly #menu = h('ul', { class: 'attach-menu', 'data-testid': 'attach-menu', 'aria-label': 'Files of input/', hidden: true });
  readonly #chips = h('div', { class: 'attach-chips', 'data-testid': 'attach-chips' });
  #chosen: string[] = [];

  constructor(
    private readonly api: ApiClient,
    private readonly sessionId: () => string | null,
  ) {
    const form = byId<HTMLFormElement>('composer-form');
    form.prepend(this.#chips);
    form.querySelector('.composer-buttons')?.append(this.#button, this.#menu);
    this.#button.addEventListener('click', () => void this.#toggle());
  }

  /** The chosen files, cleared for the next message. */
  take(): string[] {
    const files = this.#chosen;
    this.#chosen = [];
    this.#render();
    return files;
  }

  /** Puts files back (a message that could not be sent). */
  restore(files: string[]): void {
    this.#chosen = files;
    this.#render();
  }

  /** Chooses a file (its workspace path, `input/photo.png`), at most MAX_ATTACHMENTS. */
  choose(file: string): void {
    if (!this.#chosen.includes(file) && this.#chosen.length < MAX_ATTACHMENTS) this.#chosen.push(file);
    this.#render();
  }

  async #toggle(): Promise<void> {
    if (!this.#menu.hidden) {
      this.#close();
      return;
    }
    const id = this.sessionId();
    this.#menu.hidden = false;
    this.#button.setAttribute('aria-expanded', 'true');
    if (!id) {
      this.#menu.replaceChildren(h('li', {}, 'Upload a file to this chat first.'));
      return;
    }
    this.#menu.replaceChildren(h('li', {}, 'Loading…'));
    try {
      const { files } = await this.api.json('GET', `/sessions/${encodeURIComponent(id)}/files?folder=input`, FileListSchema);
      const items = files
        .filter((f) => f.type === 'file')
        .map((f) => {
          const file = `input/${f.path}`;
          const pick = h('button', { type: 'button', 'data-testid': 'attach-option', 'data-file': file }, f.name);
          pick.addEventListener('click', () => {
            this.choose(file);
            this.#close();
          });
          return h('li', {}, pick);
        });
      this.#menu.replaceChildren(...(items.length > 0 ? items : [h('li', {}, 'No files in input/ yet; upload one in the Files panel.')]));
    } catch (err) {
      this.#menu.replaceChildren(h('li', { class: 'error-text' }, `Could not list input/: ${describeError(err)}`));
    }
  }

  #close(): void {
    this.#menu.hidden = true;
    this.#button.setAttribute('aria-expanded', 'false');
  }

  #render(): void {
    this.#chips.replaceChildren(
      ...this.#chosen.map((file) => {
        const remove = h('button', { type: 'button', class: 'chip-remove', 'aria-label': `Remove ${file}` }, '×');
        remove.addEventListener('click', () => {
          this.#chosen = this.#chosen.filter((f) => f !== file);
          this.#render();
        });
        return h('span', { class: 'attach-chip', 'data-testid': 'attach-chip' }, file, remove);
      }),
    );
  }
}
