/**
 * The message box and the Stop button: sends the box (creating a blank chat first), retries a
 * failed message from its bubble, keeps the draft of each chat, and tracks whether a turn runs —
 * with a watchdog that tells the user when a sent message gets no `assistant_start`.
 */
import { describeError, type ApiClient } from './api.js';
import type { AttachmentPicker } from './attachment-picker.js';
import type { ChatSocket } from './chat-socket.js';
import { byId } from './dom.js';
import type { PendingSends } from './pending-sends.js';
import { loadDraft, NEW_CHAT_DRAFT, saveDraft } from './prefs.js';
import { SessionSchema, type Session } from './protocol.js';
import type { Transcript } from './transcript.js';
import type { UserBubble } from './user-bubble.js';

/** How long a sent message may wait for `assistant_start` before the user is told. */
export const START_WATCHDOG_MS = 30_000;

export interface ComposerDeps {
  api: ApiClient;
  transcript: Transcript;
  pending: PendingSends;
  /** The open chat (null: a blank chat). */
  session(): Session | null;
  /** The open chat's socket (null: none yet). */
  socket(): ChatSocket | null;
  /** Opens a chat, as the sidebar does. */
  open(sessionId: string): Promise<void>;
  /** Reads the sidebar's list again. */
  reloadList(): Promise<unknown>;
  /** The seq of the newest stored message shown (a sent message's answer comes after it). */
  newestSeq(): number;
  /** Retry of a message the server stored: regenerates it; false when that is no longer possible. */
  retryStored(bubble: UserBubble): Promise<boolean>;
  /** The files chosen with the paperclip, sent with the next message. */
  attachments: AttachmentPicker;
  showError(message: string): void;
  clearError(): void;
}

export class Composer {
  readonly #box = byId<HTMLTextAreaElement>('composer');
  readonly #stop = byId<HTMLButtonElement>('stop-button');
  #busy = false;
  #creating = false;
  #watchdog: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly deps: ComposerDeps) {
    this.#stop.addEventListener('click', () => this.stop());
    byId<HTMLFormElement>('composer-form').addEventListener('submit', (ev) => {
      ev.preventDefault();
      void this.send();
    });
    this.#box.addEventListener('keydown', (ev) => {
      // Enter sends, Shift+Enter is a new line; an IME composition's Enter is not a send.
      if (ev.key === 'Enter' && !ev.shiftKey && !ev.isComposing) {
        ev.preventDefault();
        void this.send();
      }
    });
    this.#box.addEventListener('input', () => saveDraft(this.#draftKey(), this.#box.value));
    this.setBusy(false);
  }

  /** A turn runs (the Stop button is enabled). */
  get busy(): boolean {
    return this.#busy;
  }

  focus(): void {
    this.#box.focus();
  }

  /** Puts the saved draft of a chat (null: a blank chat) in the box. */
  showDraft(sessionId: string | null): void {
    this.#box.value = loadDraft(sessionId ?? NEW_CHAT_DRAFT);
  }

  /** Sends the message box; the first message of a blank chat creates the chat first. */
  async send(): Promise<void> {
    const { deps } = this;
    const text = this.#box.value;
    if (!text.trim() || this.#creating) return;
    if (!deps.session()) {
      this.#creating = true;
      try {
        const session = await deps.api.json('POST', '/sessions', SessionSchema, {});
        saveDraft(NEW_CHAT_DRAFT, '');
        await deps.open(session.session_id);
        void deps.reloadList().catch(() => undefined);
      } catch (err) {
        deps.showError(`Could not create a chat: ${describeError(err)}`);
        return;
      } finally {
        this.#creating = false;
      }
      if (!deps.session()) return;
    }
    // Before the chat's first connection opens, the message waits for it.
    const files = deps.attachments.take();
    const attachments = files.length > 0 ? { attachments: files.map((file) => ({ file })) } : {};
    if (!deps.socket()?.sendOrQueue({ type: 'message', messages: [{ content: text }], ...attachments })) {
      deps.attachments.restore(files);
      this.#box.value = text;
      deps.showError('Not connected to the server, so the message was not sent. It is still in the box; send it again once connected.');
      return;
    }
    deps.clearError();
    this.#box.value = '';
    saveDraft(this.#draftKey(), '');
    this.sent(deps.transcript.addUser(text, (b) => this.retry(b), files));
  }

  /** Sends a failed message's text again from its bubble; one the server stored is answered again (regenerate). */
  retry(bubble: UserBubble): void {
    const { deps } = this;
    if (bubble.stored) {
      void deps.retryStored(bubble).then(
        (done) => done || deps.showError('That message is no longer among the newest of this chat; send it again from the box.'),
        (err: unknown) => deps.showError(`Could not retry: ${describeError(err)}`),
      );
      return;
    }
    const attachments = bubble.attachments.length > 0 ? { attachments: bubble.attachments.map((file) => ({ file })) } : {};
    if (!deps.socket()?.send({ type: 'message', messages: [{ content: bubble.text }], ...attachments })) {
      deps.showError('Not connected to the server yet, so the message was not sent again. Press Retry once connected.');
      return;
    }
    deps.clearError();
    this.sent(bubble);
  }

  /** A message went out in this bubble: tracked until its turn starts. */
  sent(bubble: UserBubble): void {
    this.deps.pending.track(bubble, this.deps.newestSeq());
    this.asked();
  }

  /** A turn was asked for: busy, and told if it does not start. */
  asked(): void {
    this.deps.clearError();
    this.setBusy(true);
    clearTimeout(this.#watchdog);
    this.#watchdog = setTimeout(
      () => this.deps.showError('The server has not started answering yet. It may be overloaded; press Stop or wait.'),
      START_WATCHDOG_MS,
    );
  }

  /** The turn asked for started or ended: the watchdog has nothing more to say. */
  cancelWatchdog(): void {
    clearTimeout(this.#watchdog);
  }

  /** Stops the running turn; false when none runs. */
  stop(): boolean {
    if (!this.#busy) return false;
    if (!this.deps.socket()?.send({ type: 'interrupt' })) this.deps.showError('Not connected: the stop request could not be sent.');
    return true;
  }

  setBusy(busy: boolean): void {
    this.#busy = busy;
    this.#stop.disabled = !busy;
    document.body.dataset.busy = String(busy);
  }

  #draftKey(): string {
    return this.deps.session()?.session_id ?? NEW_CHAT_DRAFT;
  }
}
