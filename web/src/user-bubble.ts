/**
 * A message the user sent, with how far it got: `sending` until the server starts its turn,
 * `sent` once it did, `failed` (with why, and a Retry button) when it never got there or was
 * refused before any answer. The text stays in the bubble whatever happens to it.
 */
import { h } from './dom.js';
import { hydrateWorkspaceImages } from './workspace-media.js';

const IMAGE_FILE = /\.(png|jpe?g|gif|webp)$/i;

/** Thumbnails of the images sent with a message (loaded through the files API), names of the other files. */
function attachmentsNode(files: readonly string[]): HTMLElement {
  const node = h(
    'div',
    { class: 'user-attachments', 'data-testid': 'user-attachments' },
    ...files.map((file) =>
      IMAGE_FILE.test(file)
        ? h('img', { class: 'attachment-thumb', 'data-testid': 'attachment-thumb', 'data-workspace-path': file, alt: file, title: file })
        : h('span', { class: 'attachment-file', 'data-testid': 'attachment-file' }, file),
    ),
  );
  hydrateWorkspaceImages(node);
  return node;
}

export type Delivery = 'sending' | 'sent' | 'failed';

export class UserBubble {
  readonly el: HTMLLIElement;
  readonly text: string;
  /** The server stored it (its turn started, then failed): a retry answers it again rather than sending it twice. */
  stored = false;
  #failure: HTMLElement | null = null;

  /** `onRetry` is called when the user asks to send the same text again after a failure. */
  constructor(
    text: string,
    private readonly onRetry?: (bubble: UserBubble) => void,
    /** Workspace paths of the files sent with it. */
    readonly attachments: readonly string[] = [],
  ) {
    this.text = text;
    // The user's own words are shown as typed (text, not markdown): nothing to sanitize.
    this.el = h('li', { class: 'msg msg-user', 'data-testid': 'user-message' }, h('span', { class: 'sr-only' }, 'You:'), h('p', { class: 'user-text' }, text));
    if (attachments.length > 0) this.el.append(attachmentsNode(attachments));
  }

  get delivery(): Delivery {
    const state = this.el.dataset.delivery;
    return state === 'sending' || state === 'failed' ? state : 'sent';
  }

  sending(): void {
    this.#clearFailure();
    this.el.dataset.delivery = 'sending';
    this.el.setAttribute('aria-busy', 'true');
  }

  sent(): void {
    this.#clearFailure();
    delete this.el.dataset.delivery;
    this.el.removeAttribute('aria-busy');
  }

  /** Shows why the message failed and offers to send it again. */
  failed(reason: string): void {
    this.#clearFailure();
    this.el.dataset.delivery = 'failed';
    this.el.removeAttribute('aria-busy');
    const retry = h('button', { type: 'button', class: 'retry-button', 'data-testid': 'retry-send' }, 'Retry');
    retry.addEventListener('click', () => this.onRetry?.(this));
    this.#failure = h('div', { class: 'send-failed', 'data-testid': 'send-failed' }, h('p', { class: 'send-failed-text' }, reason), retry);
    this.el.append(this.#failure);
  }

  #clearFailure(): void {
    this.#failure?.remove();
    this.#failure = null;
  }
}
