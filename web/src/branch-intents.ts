/**
 * What the tree controls do: an edit sends the new wording under the edited message's parent, a
 * regenerate asks for a new answer to a question, a version switch moves the active leaf and
 * shows that branch, and Retry of a message the server stored (its answer failed) regenerates
 * instead of storing the question twice.
 */
import { describeError, type ApiClient } from './api.js';
import type { BranchActions } from './branch-controls.js';
import { MessagePageSchema, type ClientFrame, type Message } from './protocol.js';
import type { Transcript } from './transcript.js';
import type { UserBubble } from './user-bubble.js';

export interface BranchDeps {
  api: ApiClient;
  transcript: Transcript;
  /** The open chat's public id. */
  sessionId(): string | null;
  /** Sends a frame on the open chat's socket; false when not connected. */
  send(frame: ClientFrame): boolean;
  /** A message went out in this bubble (tracked like a typed one). */
  sent(bubble: UserBubble): void;
  /** A turn was asked for without a new message (a regenerate). */
  asked(): void;
  /** Retry of a failed message, as the bubble's Retry button does it. */
  retry(bubble: UserBubble): void;
  /** Shows the open chat's active path again from the server. */
  reload(): Promise<void>;
  showError(message: string): void;
}

const NOT_CONNECTED = 'Not connected to the server, so nothing was sent. Try again once connected.';

export class BranchIntents implements BranchActions {
  constructor(private readonly deps: BranchDeps) {}

  edit(m: Message, text: string): void {
    // Only the wording changes: the files sent with the question go with its new version too.
    const files = (m.attachments ?? []).map((a) => a.file);
    const attachments = files.length > 0 ? { attachments: files.map((file) => ({ file })) } : {};
    if (!this.deps.send({ type: 'message', messages: [{ content: text }], parent_id: m.parent_id ?? null, ...attachments })) return this.deps.showError(NOT_CONNECTED);
    this.deps.transcript.dropBranchFrom(m.id, false);
    this.deps.sent(this.deps.transcript.addUser(text, (b) => this.deps.retry(b), files));
  }

  regenerate(m: Message): void {
    if (!this.deps.send({ type: 'regenerate', message_id: m.id })) return this.deps.showError(NOT_CONNECTED);
    this.deps.transcript.dropBranchFrom(m.id, true);
    this.deps.asked();
  }

  switchTo(id: string): void {
    const sessionId = this.deps.sessionId();
    if (!sessionId) return;
    void (async () => {
      try {
        await this.deps.api.send(`/sessions/${encodeURIComponent(sessionId)}/active-leaf`, {
          method: 'PUT',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ message_id: id }),
        });
        if (this.deps.sessionId() === sessionId) await this.deps.reload();
      } catch (err) {
        this.deps.showError(`Could not show that version: ${describeError(err)}`);
      }
    })();
  }

  /**
   * Retry of a message whose turn started (the server stored it) and then failed: the stored
   * question is answered again. False when it is not found among the newest stored messages.
   */
  async retryStored(bubble: UserBubble): Promise<boolean> {
    const sessionId = this.deps.sessionId();
    if (!sessionId) return false;
    const page = await this.deps.api.json('GET', `/sessions/${encodeURIComponent(sessionId)}/messages?before_seq=${Number.MAX_SAFE_INTEGER}&limit=20`, MessagePageSchema);
    const question = page.messages.filter((m) => m.role === 'user' && m.content === bubble.text).at(-1);
    if (!question) return false;
    if (!this.deps.send({ type: 'regenerate', message_id: question.id })) {
      this.deps.showError(NOT_CONNECTED);
      return true;
    }
    this.deps.transcript.dropAfter(bubble);
    this.deps.sent(bubble);
    return true;
  }
}
