/**
 * The controller of the signed-in screen: owns the open session and its socket, turns server
 * events into transcript, gauge and list updates, and turns user intents into REST calls. Every
 * failure ends in a visible message — never a silent spinner.
 */
import { ApiClient, describeError } from './api.js';
import { ChatSocket, type SocketStatus } from './chat-socket.js';
import { ConnectionView } from './connection-view.js';
import { byId } from './dom.js';
import { FilePanel } from './file-panel.js';
import { HistoryPager } from './history-pager.js';
import { Layout } from './layout.js';
import { Pickers } from './pickers.js';
import { loadDraft, NEW_CHAT_DRAFT, saveDraft } from './prefs.js';
import { SessionListSchema, SessionSchema, type PublicConfig, type ServerEvent, type Session } from './protocol.js';
import { SessionList, sessionLabel } from './session-list.js';
import { TokenGauge } from './token-gauge.js';
import { installShortcuts } from './shortcuts.js';
import { Transcript } from './transcript.js';
import { bindWorkspaceMedia } from './workspace-media.js';
import { PendingSends } from './pending-sends.js';
import { BranchIntents } from './branch-intents.js';
import type { UserBubble } from './user-bubble.js';
import { SearchView } from './search-view.js';
import { InstructionsPanel } from './instructions-view.js';
import type { Preset } from './protocol.js';

/** How long a sent message may wait for `assistant_start` before the user is told. */
export const START_WATCHDOG_MS = 30_000;

export class ChatApp {
  readonly #transcript = new Transcript(byId<HTMLOListElement>('transcript'), (toolCallId, choice) => {
    const frame = choice.decision === 'approve' ? { type: 'approve' as const, tool_call_id: toolCallId, always: choice.always } : { type: 'deny' as const, tool_call_id: toolCallId, ...(choice.reason ? { reason: choice.reason } : {}) };
    if (!this.#socket?.send(frame)) this.showError('Not connected: the decision could not be sent.');
  });
  readonly #gauge = new TokenGauge(byId<HTMLMeterElement>('token-meter'), byId('token-label'));
  readonly #composer = byId<HTMLTextAreaElement>('composer');
  readonly #stop = byId<HTMLButtonElement>('stop-button');
  readonly #title = byId('session-title');
  readonly #connection = new ConnectionView();
  readonly #errorBox = byId('error-banner');
  readonly #errorText = byId('error-text');
  readonly #layout = new Layout();
  readonly #list: SessionList;
  readonly #files: FilePanel;
  readonly #pickers: Pickers;
  #session: Session | null = null;
  #socket: ChatSocket | null = null;
  /** The last turn event seen of a turn that has not ended (for `resume` after a reconnect). */
  #streaming: { turnId: string; seq: number } | null = null;
  #resuming = false;
  #busy = false;
  readonly #pending = new PendingSends();
  readonly #history: HistoryPager;
  readonly #branches: BranchIntents;
  #creating = false;
  /** The sidebar lists archived chats instead of the others. */
  #archivedView = false;
  /** Session-list requests made so far; only the newest one's answer is shown. */
  #listAsked = 0;
  /** Turns this connection has seen from their `assistant_start`; events of any other turn started before the page connected. */
  readonly #knownTurns = new Set<string>();
  /** The turn being replayed from its start (see `Transcript.dropRunningTurn`). */
  #catchingUp: string | null = null;
  #watchdog: ReturnType<typeof setTimeout> | undefined;
  /** The chat being shown (its workspace images and files load through the files API). */
  #openId: string | null = null;
  /** A message sent whose turn has not started: a refusal (a limit, a bad model) puts it back in the box. */

  constructor(
    private readonly api: ApiClient,
    config: PublicConfig,
  ) {
    this.#list = new SessionList(byId<HTMLUListElement>('session-list'), {
      open: (id) => {
        this.#layout.setDrawer(false);
        void this.open(id);
      },
      pin: (s) => void this.#patch(s, { pinned: !s.pinned }, true),
      rename: (s, title) => void this.#patch(s, { title }, true),
      archive: (s) => void this.#patch(s, { archived: !s.archived }, true),
      remove: (s) => void this.#remove(s),
    });
    new SearchView(api, {
      open: (id, messageId) => {
        this.#layout.setDrawer(false);
        void this.#openAt(id, messageId);
      },
      showing: (active) => {
        byId('session-list').hidden = active;
        byId('archived-toggle').hidden = active;
      },
    });
    new InstructionsPanel(api, { current: () => this.#session, apply: (settings, preset) => this.#applySettings(settings, preset) });
    byId('archived-toggle').addEventListener('click', () => void this.#toggleArchived());
    this.#files = new FilePanel(
      api,
      { upload: byId('upload-input'), status: byId('upload-status'), input: byId('input-files'), output: byId('output-files'), refresh: byId('files-refresh') },
      (m) => this.showError(m),
    );
    this.#pickers = new Pickers(byId('model-picker'), byId('mcp-picker'), byId('mcp-options'), {
      setModel: (model) => this.#session && void this.#patch(this.#session, { model }, false),
      setMcp: (names) => this.#session && void this.#patch(this.#session, { mcp_config: names }, false),
    });
    this.#pickers.configure(config);
    this.#history = new HistoryPager(api, this.#transcript, (m) => this.showError(m));
    this.#branches = new BranchIntents({
      api,
      transcript: this.#transcript,
      sessionId: () => this.#session?.session_id ?? null,
      send: (frame) => this.#socket?.send(frame) ?? false,
      sent: (bubble) => this.#sent(bubble),
      asked: () => this.#asked(),
      retry: (bubble) => this.#retry(bubble),
      reload: () => (this.#session ? this.#loadHistory(this.#session.session_id) : Promise.resolve()),
      showError: (m) => this.showError(m),
    });
    this.#transcript.setBranchActions(this.#branches);
    bindWorkspaceMedia(api, () => this.#openId);
    byId('new-session').addEventListener('click', () => void this.newChat());
    byId('error-dismiss').addEventListener('click', () => this.clearError());
    this.#stop.addEventListener('click', () => this.stop());
    byId<HTMLFormElement>('composer-form').addEventListener('submit', (ev) => {
      ev.preventDefault();
      void this.sendMessage();
    });
    this.#composer.addEventListener('keydown', (ev) => {
      // Enter sends, Shift+Enter is a new line; an IME composition's Enter is not a send.
      if (ev.key === 'Enter' && !ev.shiftKey && !ev.isComposing) {
        ev.preventDefault();
        void this.sendMessage();
      }
    });
    this.#composer.addEventListener('input', () => saveDraft(this.#draftKey(), this.#composer.value));
    installShortcuts({
      newChat: () => void this.newChat(),
      focusComposer: () => this.#composer.focus(),
      stop: () => this.stop(),
      moveChat: (step) => {
        const next = this.#list.neighbour(this.#session?.session_id ?? null, step);
        if (next && next !== this.#session?.session_id) void this.open(next).then(() => this.#focusCurrentInList());
      },
      toggleSidebar: () => this.#layout.setDrawer(!this.#layout.drawerOpen, true),
      closeOverlays: () => this.#layout.closeOverlays(),
    });
    window.addEventListener('hashchange', () => {
      const id = location.hash.slice(1);
      if (id && id !== this.#session?.session_id) void this.open(id);
    });
    this.#setBusy(false);
  }

  /** Loads the session list and opens the session named in the URL, or the most recent one. */
  async start(): Promise<void> {
    const sessions = await this.#reloadList();
    const wanted = location.hash.slice(1);
    const first = sessions.find((s) => s.session_id === wanted) ?? sessions[0];
    await this.open(first?.session_id ?? null);
  }

  /** The open chat's public id (null: a blank chat). */
  currentSessionId(): string | null {
    return this.#session?.session_id ?? null;
  }

  /** After an import: the list shows the new chats and the first of them opens. */
  async showImported(sessionIds: string[]): Promise<void> {
    await this.#reloadList();
    if (sessionIds[0]) await this.open(sessionIds[0]);
  }

  stopAll(): void {
    this.#socket?.close();
    this.#socket = null;
    this.#streaming = null;
    this.#resuming = false;
  }

  /** A blank chat: it is created on the server by its first message. */
  async newChat(): Promise<void> {
    this.#layout.setDrawer(false);
    await this.open(null);
    this.#composer.focus();
  }

  async open(sessionId: string | null): Promise<void> {
    this.#openId = sessionId;
    this.stopAll();
    this.#setBusy(false);
    this.#transcript.clear();
    this.#history.close();
    this.#knownTurns.clear();
    this.#pending.clear();
    this.#catchingUp = null;
    this.#session = null;
    this.#showSession(null);
    this.#composer.value = loadDraft(sessionId ?? NEW_CHAT_DRAFT);
    this.#connection.reset();
    if (!sessionId) {
      history.replaceState(null, '', location.pathname);
      await this.#files.open(null);
      return;
    }
    history.replaceState(null, '', `#${sessionId}`);
    try {
      await this.#loadHistory(sessionId);
    } catch (err) {
      this.showError(`Could not open the chat: ${describeError(err)}`);
      return;
    }
    void this.#files.open(sessionId);
    this.#socket = new ChatSocket({
      sessionId,
      token: () => (this.api.jwt ? this.api.accessToken() : Promise.resolve(null)),
      refresh: () => (this.api.jwt ? this.api.refresh() : Promise.resolve(true)),
      onEvent: (ev) => this.#onEvent(ev),
      onStatus: (st) => this.#onStatus(sessionId, st),
      onAccountDisabled: () => this.api.accountDisabled(),
    });
  }

  /** Sends the message box; the first message of a blank chat creates the chat first. */
  async sendMessage(): Promise<void> {
    const text = this.#composer.value;
    if (!text.trim() || this.#creating) return;
    if (!this.#session) {
      this.#creating = true;
      try {
        const session = await this.api.json('POST', '/sessions', SessionSchema, {});
        saveDraft(NEW_CHAT_DRAFT, '');
        await this.open(session.session_id);
        void this.#reloadList().catch(() => undefined);
      } catch (err) {
        this.showError(`Could not create a chat: ${describeError(err)}`);
        return;
      } finally {
        this.#creating = false;
      }
      if (!this.#session) return;
    }
    // Before the chat's first connection opens, the message waits for it.
    if (!this.#socket?.sendOrQueue({ type: 'message', messages: [{ content: text }] })) {
      this.#composer.value = text;
      this.showError('Not connected to the server, so the message was not sent. It is still in the box; send it again once connected.');
      return;
    }
    this.clearError();
    this.#composer.value = '';
    saveDraft(this.#draftKey(), '');
    this.#sent(this.#transcript.addUser(text, (b) => this.#retry(b)));
  }

  /** Sends a failed message's text again from its bubble; one the server stored is answered again (regenerate). */
  #retry(bubble: UserBubble): void {
    if (bubble.stored) {
      void this.#branches.retryStored(bubble).then(
        (done) => done || this.showError('That message is no longer among the newest of this chat; send it again from the box.'),
        (err: unknown) => this.showError(`Could not retry: ${describeError(err)}`),
      );
      return;
    }
    if (!this.#socket?.send({ type: 'message', messages: [{ content: bubble.text }] })) {
      this.showError('Not connected to the server yet, so the message was not sent again. Press Retry once connected.');
      return;
    }
    this.clearError();
    this.#sent(bubble);
  }

  #sent(bubble: UserBubble): void {
    this.#pending.track(bubble, this.#history.newestSeq);
    this.#asked();
  }

  /** A turn was asked for: busy, and told if it does not start. */
  #asked(): void {
    this.clearError();
    this.#setBusy(true);
    clearTimeout(this.#watchdog);
    this.#watchdog = setTimeout(() => this.showError('The server has not started answering yet. It may be overloaded; press Stop or wait.'), START_WATCHDOG_MS);
  }

  /** Stops the running turn; false when none runs. */
  stop(): boolean {
    if (!this.#busy) return false;
    if (!this.#socket?.send({ type: 'interrupt' })) this.showError('Not connected: the stop request could not be sent.');
    return true;
  }

  showError(message: string): void {
    this.#errorText.textContent = message;
    this.#errorBox.hidden = false;
  }

  clearError(): void {
    this.#errorBox.hidden = true;
    this.#errorText.textContent = '';
  }

  #onEvent(ev: ServerEvent): void {
    // Where the stream is, so a dropped connection can `resume` it instead of reloading.
    const turnId = 'turn_id' in ev && typeof ev.turn_id === 'string' ? ev.turn_id : undefined;
    const seq = 'seq' in ev && typeof ev.seq === 'number' ? ev.seq : undefined;
    if (turnId !== undefined && seq !== undefined && !this.#knownTurns.has(turnId)) {
      if (ev.type === 'assistant_start') {
        this.#knownTurns.add(turnId);
        if (this.#catchingUp === turnId) this.#transcript.dropRunningTurn();
        this.#catchingUp = null;
      } else {
        // A turn that began before this page connected (a reload, a second tab): the history shows
        // it only up to its last checkpoint, so replay it from its first event on a new connection.
        if (this.#catchingUp !== turnId) {
          this.#catchingUp = turnId;
          this.#resuming = true;
          this.#setBusy(true);
          this.#socket?.restart({ type: 'resume', turn_id: turnId, after_seq: 0 });
        }
        return;
      }
    }
    if (turnId !== undefined && seq !== undefined) this.#streaming = ev.type === 'assistant_end' ? null : { turnId, seq };
    if (ev.type === 'assistant_end') this.#resuming = false;
    if (ev.type === 'error' && this.#resuming && ev.code === 'RES_3001') {
      // The server no longer has that turn's events (it restarted, or too long passed): reload.
      this.#resuming = false;
      this.#streaming = null;
      this.#catchingUp = null;
      if (this.#session) this.#reloadAfterReconnect(this.#session.session_id);
      return;
    }
    // A turn seen mid-way (after a reconnect, or started in another tab) can be stopped here too.
    // (A decision on a paused turn is no sign of it running: the turn says assistant_start when it goes on.)
    const running = ev.type !== 'assistant_end' && ev.type !== 'approval_resolved';
    if ('turn_id' in ev && ev.turn_id && running && !this.#busy) this.#setBusy(true);
    switch (ev.type) {
      case 'assistant_start':
        this.#pending.started();
        clearTimeout(this.#watchdog);
        this.#setBusy(true);
        this.#transcript.startTurn();
        return;
      case 'assistant_delta':
        this.#pending.answered();
        return this.#transcript.appendText(ev.content);
      case 'reasoning_delta':
        this.#pending.answered();
        return this.#transcript.appendReasoning(ev.content);
      case 'function_detected':
        this.#pending.answered();
        this.#transcript.toolCard(ev.tool_call_id, ev.tool_name);
        return;
      case 'function_call_arguments_delta':
        return this.#transcript.toolCard(ev.tool_call_id, 'tool').appendArguments(ev.delta);
      case 'function_executing':
        return this.#transcript.toolCard(ev.tool_call_id, ev.tool_name).setArguments(ev.tool_arguments);
      case 'function_completed':
        return this.#transcript.toolCard(ev.tool_call_id, ev.tool_name).complete(ev.tool_result, ev.tool_success, ev.interrupted === true);
      case 'token_usage':
        // Keep the session's count current too: a later session_updated re-renders from it.
        if (this.#session) this.#session = { ...this.#session, total_tokens: ev.current };
        return this.#gauge.show(ev.current, ev.threshold, ev.limit);
      case 'stream_interrupted':
        this.#connection.say('Stopping…');
        return;
      case 'approval_required':
        this.#pending.answered();
        return this.#transcript.askApproval(ev.tool_call_id, ev.tool_name, ev.tool_arguments, ev.expires_at);
      case 'approval_resolved':
        this.#transcript.toolCard(ev.tool_call_id, 'tool').approvalResolved(ev.decision, ev.by);
        void this.#reloadList().catch(() => undefined);
        return;
      case 'assistant_end': {
        clearTimeout(this.#watchdog);
        const text = this.#transcript.endTurn(ev.finish_reason);
        this.#connection.announce(ev.finish_reason, text);
        this.#setBusy(false);
        this.#connection.say('Connected');
        // The stored rows carry the ids the edit, regenerate and version controls need.
        if (ev.finish_reason !== 'error' && !this.#pending.hasFailed && this.#session) this.#refreshHistory(this.#session.session_id);
        void this.#files.refresh();
        void this.#reloadList().catch(() => undefined);
        return;
      }
      case 'session_updated':
        return this.#sessionUpdated(ev);
      case 'error':
        this.#pending.refused(`Not answered: ${ev.message} (${ev.code})`, turnId !== undefined);
        // A refused frame starts no turn: nothing is running to stop.
        if (turnId === undefined && this.#streaming === null) this.#setBusy(false);
        clearTimeout(this.#watchdog);
        return this.showError(`${ev.message} (${ev.code})`);
      case 'server_shutdown':
        this.#connection.say('The server is shutting down…');
        return;
      case 'ping':
      case 'pong':
        return;
    }
  }

  #onStatus(sessionId: string, st: SocketStatus): void {
    if (this.#session?.session_id !== sessionId && st.state !== 'failed') return;
    this.#connection.show(st);
    if (st.state === 'open') {
      // After a dropped connection: a turn that was streaming goes on where it stopped (resume);
      // otherwise what happened meanwhile is in the stored history.
      if (st.reconnected) {
        const streaming = this.#streaming;
        if (streaming && this.#socket?.send({ type: 'resume', turn_id: streaming.turnId, after_seq: streaming.seq })) {
          this.#resuming = true;
        } else {
          this.#reloadAfterReconnect(sessionId);
        }
      }
    } else if (st.state === 'waiting') {
      this.#pending.dropped('Not sent: the connection dropped before the server got it.');
      clearTimeout(this.#watchdog);
      this.#setBusy(false);
    } else if (st.state === 'failed') {
      this.#pending.dropped('Not sent: the connection was lost.');
      this.showError(st.reason);
    }
  }

  #reloadAfterReconnect(sessionId: string): void {
    void this.#loadHistory(sessionId).catch((err: unknown) => this.showError(`Could not reload the chat: ${describeError(err)}`));
    void this.#files.refresh();
  }

  /** Shows the stored history again after a turn, unless another turn began meanwhile. */
  #refreshHistory(sessionId: string): void {
    const idle = () => !this.#busy && this.#session?.session_id === sessionId;
    void this.#history.open(sessionId, idle).catch((err: unknown) => this.showError(`Could not reload the chat: ${describeError(err)}`));
  }

  async #loadHistory(sessionId: string): Promise<void> {
    const detail = await this.#history.open(sessionId);
    for (const bubble of this.#pending.unsent(detail.messages.filter((m) => m.role === 'user'))) this.#transcript.appendUser(bubble);
    this.#showSession(detail.session);
  }

  #showSession(session: Session | null): void {
    this.#session = session;
    this.#title.textContent = session ? sessionLabel(session) : 'New chat';
    this.#pickers.show(session);
    if (session) this.#gauge.show(session.total_tokens, session.trigger_tokens, session.max_tokens);
    else this.#gauge.show(0, 0, 0);
    this.#list.show([...this.#list.sessions], session?.session_id ?? null);
  }

  #sessionUpdated(ev: Extract<ServerEvent, { type: 'session_updated' }>): void {
    const current = this.#session;
    if (!current) return;
    const merged = SessionSchema.safeParse({ ...current, ...ev, session_id: current.session_id, id: current.id });
    if (!merged.success) return;
    this.#showSession(merged.data);
    this.#list.update(merged.data);
  }

  async #reloadList(): Promise<Session[]> {
    const asked = ++this.#listAsked;
    const answer = await this.api.json('GET', `/sessions?limit=100${this.#archivedView ? '&archived=true' : ''}`, SessionListSchema);
    // An answer overtaken by a later request is older than what that one shows (an archived chat would come back).
    if (asked === this.#listAsked) this.#list.show(answer.sessions, this.#session?.session_id ?? null);
    return answer.sessions;
  }

  async #patch(session: Session, body: Record<string, unknown>, reorder: boolean): Promise<void> {
    try {
      const updated = await this.api.json('PATCH', `/sessions/${encodeURIComponent(session.session_id)}`, SessionSchema, body);
      if (this.#session?.session_id === updated.session_id) this.#showSession(updated);
      if (reorder) await this.#reloadList();
      else this.#list.update(updated);
    } catch (err) {
      this.showError(`Could not change "${sessionLabel(session)}": ${describeError(err)}`);
      // Put the pickers back to what the server has.
      if (this.#session) this.#pickers.show(this.#session);
    }
  }

  /** Opens a chat and brings one of its messages into view, when it is on the page shown. */
  async #openAt(sessionId: string, messageId: string | null): Promise<void> {
    if (sessionId !== this.#session?.session_id) await this.open(sessionId);
    if (messageId === null) return;
    const target = document.querySelector<HTMLElement>(`#transcript [data-message-id="${CSS.escape(messageId)}"]`);
    if (!target) return;
    for (const old of document.querySelectorAll('.search-target')) old.classList.remove('search-target');
    target.classList.add('search-target');
    target.scrollIntoView({ block: 'center' });
  }

  /** Switches the sidebar between the chats and the archived chats. */
  async #toggleArchived(): Promise<void> {
    this.#archivedView = !this.#archivedView;
    const toggle = byId('archived-toggle');
    toggle.textContent = this.#archivedView ? 'Back to chats' : 'Archived chats';
    toggle.setAttribute('aria-pressed', String(this.#archivedView));
    this.#list.emptyText = this.#archivedView ? 'No archived chats.' : 'No chats yet.';
    try {
      await this.#reloadList();
    } catch (err) {
      this.showError(`Could not load the chats: ${describeError(err)}`);
    }
  }

  /**
   * Instructions or a preset for the open chat (PATCH), or a new chat made with them when none is
   * open. Answers the failure to show, or null.
   */
  async #applySettings(settings: Record<string, unknown>, preset: Preset | null): Promise<string | null> {
    try {
      if (this.#session) {
        const updated = await this.api.json('PATCH', `/sessions/${encodeURIComponent(this.#session.session_id)}`, SessionSchema, settings);
        this.#showSession(updated);
        this.#list.update(updated);
      } else {
        const created = await this.api.json('POST', '/sessions', SessionSchema, preset ? { preset_id: preset.id } : settings);
        await this.open(created.session_id);
        await this.#reloadList();
      }
      return null;
    } catch (err) {
      return `Could not apply the settings: ${describeError(err)}`;
    }
  }

  async #remove(session: Session): Promise<void> {
    try {
      await this.api.send(`/sessions/${encodeURIComponent(session.session_id)}`, { method: 'DELETE' });
      const remaining = await this.#reloadList();
      if (this.#session?.session_id === session.session_id) await this.open(remaining[0]?.session_id ?? null);
    } catch (err) {
      this.showError(`Could not delete "${sessionLabel(session)}": ${describeError(err)}`);
    }
  }

  #draftKey(): string {
    return this.#session?.session_id ?? NEW_CHAT_DRAFT;
  }

  #focusCurrentInList(): void {
    document.querySelector<HTMLElement>('[data-testid=session-open][aria-current=page]')?.focus();
  }

  #setBusy(busy: boolean): void {
    this.#busy = busy;
    this.#stop.disabled = !busy;
    document.body.dataset.busy = String(busy);
  }
}
