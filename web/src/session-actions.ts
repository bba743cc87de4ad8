/**
 * What the sidebar and the chat's settings do on the server: read the list (the chats or the
 * archived ones), pin, rename, archive, change the model or MCP servers (PATCH), delete, and apply
 * instructions or a preset. Every failure ends in a visible message.
 */
import { describeError, type ApiClient } from './api.js';
import { byId } from './dom.js';
import type { Pickers } from './pickers.js';
import { SessionListSchema, SessionSchema, type Preset, type Session } from './protocol.js';
import { sessionLabel, type SessionList } from './session-list.js';

export interface SessionActionDeps {
  api: ApiClient;
  list: SessionList;
  pickers: Pickers;
  /** The open chat (null: a blank chat). */
  session(): Session | null;
  /** Shows a chat's new state in the header, pickers and gauge. */
  showSession(session: Session): void;
  open(sessionId: string | null): Promise<void>;
  showError(message: string): void;
}

export class SessionActions {
  /** The sidebar lists archived chats instead of the others. */
  #archivedView = false;
  /** Session-list requests made so far; only the newest one's answer is shown. */
  #listAsked = 0;

  constructor(private readonly deps: SessionActionDeps) {
    byId('archived-toggle').addEventListener('click', () => void this.toggleArchived());
  }

  /** Reads the sidebar's list again and answers it. */
  async reloadList(): Promise<Session[]> {
    const { deps } = this;
    const asked = ++this.#listAsked;
    const answer = await deps.api.json('GET', `/sessions?limit=100${this.#archivedView ? '&archived=true' : ''}`, SessionListSchema);
    // An answer overtaken by a later request is older than what that one shows (an archived chat would come back).
    if (asked === this.#listAsked) deps.list.show(answer.sessions, deps.session()?.session_id ?? null);
    return answer.sessions;
  }

  /** Changes a chat; `reorder` reads the list again (pinning or archiving moves the chat). */
  async patch(session: Session, body: Record<string, unknown>, reorder: boolean): Promise<void> {
    const { deps } = this;
    try {
      const updated = await deps.api.json('PATCH', `/sessions/${encodeURIComponent(session.session_id)}`, SessionSchema, body);
      if (deps.session()?.session_id === updated.session_id) deps.showSession(updated);
      if (reorder) await this.reloadList();
      else deps.list.update(updated);
    } catch (err) {
      deps.showError(`Could not change "${sessionLabel(session)}": ${describeError(err)}`);
      // Put the pickers back to what the server has.
      const current = deps.session();
      if (current) deps.pickers.show(current);
    }
  }

  /** Switches the sidebar between the chats and the archived chats. */
  async toggleArchived(): Promise<void> {
    this.#archivedView = !this.#archivedView;
    const toggle = byId('archived-toggle');
    toggle.textContent = this.#archivedView ? 'Back to chats' : 'Archived chats';
    toggle.setAttribute('aria-pressed', String(this.#archivedView));
    this.deps.list.emptyText = this.#archivedView ? 'No archived chats.' : 'No chats yet.';
    try {
      await this.reloadList();
    } catch (err) {
      this.deps.showError(`Could not load the chats: ${describeError(err)}`);
    }
  }

  /**
   * Instructions or a preset for the open chat (PATCH), or a new chat made with them when none is
   * open. Answers the failure to show, or null.
   */
  async applySettings(settings: Record<string, unknown>, preset: Preset | null): Promise<string | null> {
    const { deps } = this;
    try {
      const current = deps.session();
      if (current) {
        const updated = await deps.api.json('PATCH', `/sessions/${encodeURIComponent(current.session_id)}`, SessionSchema, settings);
        deps.showSession(updated);
        deps.list.update(updated);
      } else {
        const created = await deps.api.json('POST', '/sessions', SessionSchema, preset ? { preset_id: preset.id } : settings);
        await deps.open(created.session_id);
        await this.reloadList();
      }
      return null;
    } catch (err) {
      return `Could not apply the settings: ${describeError(err)}`;
    }
  }

  /** Deletes a chat; when it is the open one, the newest remaining chat opens. */
  async remove(session: Session): Promise<void> {
    const { deps } = this;
    try {
      await deps.api.send(`/sessions/${encodeURIComponent(session.session_id)}`, { method: 'DELETE' });
      const remaining = await this.reloadList();
      if (deps.session()?.session_id === session.session_id) await deps.open(remaining[0]?.session_id ?? null);
    } catch (err) {
      deps.showError(`Could not delete "${sessionLabel(session)}": ${describeError(err)}`);
    }
  }
}
