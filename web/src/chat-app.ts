/**
 * The controller of the signed-in screen: owns the open session and its socket, and wires the
 * views to the parts that act for them — `TurnEvents` (server events → views), `Composer` (the
 * message box, send, retry, Stop) and `SessionActions` (the list's and settings' REST calls).
 * Every failure ends in a visible message — never a silent spinner.
 */
import { AttachmentPicker } from './attachment-picker.js';
import { ApiClient, describeError } from './api.js';
import { ChatSocket } from './chat-socket.js';
import { Composer } from './composer.js';
import { ConnectionView } from './connection-view.js';
import { byId } from './dom.js';
import { FilePanel } from './file-panel.js';
import { HistoryPager } from './history-pager.js';
import { Layout } from './layout.js';
import { Pickers } from './pickers.js';
import { SessionSchema, type PublicConfig, type ServerEvent, type Session } from './protocol.js';
import { SessionActions } from './session-actions.js';
import { SessionList, sessionLabel } from './session-list.js';
import { TokenGauge } from './token-gauge.js';
import { installShortcuts } from './shortcuts.js';
import { Transcript } from './transcript.js';
import { TurnEvents } from './turn-events.js';
import { bindWorkspaceMedia } from './workspace-media.js';
import { PendingSends } from './pending-sends.js';
import { BranchIntents } from './branch-intents.js';
import { SearchView } from './search-view.js';
import { InstructionsPanel } from './instructions-view.js';

export class ChatApp {
  readonly #transcript = new Transcript(byId<HTMLOListElement>('transcript'), (toolCallId, choice) => {
    const frame = choice.decision === 'approve' ? { type: 'approve' as const, tool_call_id: toolCallId, always: choice.always } : { type: 'deny' as const, tool_call_id: toolCallId, ...(choice.reason ? { reason: choice.reason } : {}) };
    if (!this.#socket?.send(frame)) this.showError('Not connected: the decision could not be sent.');
  });
  readonly #gauge = new TokenGauge(byId<HTMLMeterElement>('token-meter'), byId('token-label'));
  readonly #title = byId('session-title');
  readonly #connection = new ConnectionView();
  readonly #errorBox = byId('error-banner');
  readonly #errorText = byId('error-text');
  readonly #layout = new Layout();
  readonly #list: SessionList;
  readonly #files: FilePanel;
  readonly #pickers: Pickers;
  readonly #actions: SessionActions;
  readonly #composer: Composer;
  readonly #events: TurnEvents;
  #session: Session | null = null;
  #socket: ChatSocket | null = null;
  readonly #pending = new PendingSends();
  readonly #history: HistoryPager;
  readonly #branches: BranchIntents;
  /** The chat being shown (its workspace images and files load through the files API). */
  #openId: string | null = null;

  constructor(
    private readonly api: ApiClient,
    config: PublicConfig,
  ) {
    this.#list = new SessionList(byId<HTMLUListElement>('session-list'), {
      open: (id) => {
        this.#layout.setDrawer(false);
        void this.open(id);
      },
      pin: (s) => void this.#actions.patch(s, { pinned: !s.pinned }, true),
      rename: (s, title) => void this.#actions.patch(s, { title }, true),
      archive: (s) => void this.#actions.patch(s, { archived: !s.archived }, true),
      remove: (s) => void this.#actions.remove(s),
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
    new InstructionsPanel(api, { current: () => this.#session, apply: (settings, preset) => this.#actions.applySettings(settings, preset) });
    this.#files = new FilePanel(
      api,
      { upload: byId('upload-input'), status: byId('upload-status'), input: byId('input-files'), output: byId('output-files'), refresh: byId('files-refresh') },
      (m) => this.showError(m),
    );
    this.#pickers = new Pickers(byId('model-picker'), byId('mcp-picker'), byId('mcp-options'), {
      setModel: (model) => this.#session && void this.#actions.patch(this.#session, { model }, false),
      setMcp: (names) => this.#session && void this.#actions.patch(this.#session, { mcp_config: names }, false),
    });
    this.#pickers.configure(config);
    this.#actions = new SessionActions({
      api,
      list: this.#list,
      pickers: this.#pickers,
      session: () => this.#session,
      showSession: (session) => this.#showSession(session),
      open: (id) => this.open(id),
      showError: (m) => this.showError(m),
    });
    this.#history = new HistoryPager(api, this.#transcript, (m) => this.showError(m));
    this.#branches = new BranchIntents({
      api,
      transcript: this.#transcript,
      sessionId: () => this.#session?.session_id ?? null,
      send: (frame) => this.#socket?.send(frame) ?? false,
      sent: (bubble) => this.#composer.sent(bubble),
      asked: () => this.#composer.asked(),
      retry: (bubble) => this.#composer.retry(bubble),
      reload: () => (this.#session ? this.#loadHistory(this.#session.session_id) : Promise.resolve()),
      showError: (m) => this.showError(m),
    });
    this.#transcript.setBranchActions(this.#branches);
    bindWorkspaceMedia(api, () => this.#openId);
    byId('new-session').addEventListener('click', () => void this.newChat());
    byId('error-dismiss').addEventListener('click', () => this.clearError());
    this.#composer = new Composer({
      api,
      transcript: this.#transcript,
      pending: this.#pending,
      session: () => this.#session,
      socket: () => this.#socket,
      open: (id) => this.open(id),
      reloadList: () => this.#actions.reloadList(),
      newestSeq: () => this.#history.newestSeq,
      retryStored: (bubble) => this.#branches.retryStored(bubble),
      attachments: new AttachmentPicker(api, () => this.#openId),
      showError: (m) => this.showError(m),
      clearError: () => this.clearError(),
    });
    this.#events = new TurnEvents({
      transcript: this.#transcript,
      gauge: this.#gauge,
      connection: this.#connection,
      pending: this.#pending,
      turn: this.#composer,
      session: () => this.#session,
      socket: () => this.#socket,
      setTotalTokens: (tokens) => {
        if (this.#session) this.#session = { ...this.#session, total_tokens: tokens };
      },
      sessionUpdated: (ev) => this.#sessionUpdated(ev),
      reloadAfterReconnect: (sessionId) => this.#reloadAfterReconnect(sessionId),
      refreshHistory: (sessionId) => this.#refreshHistory(sessionId),
      refreshFiles: () => void this.#files.refresh(),
      reloadList: () => void this.#actions.reloadList().catch(() => undefined),
      showError: (m) => this.showError(m),
    });
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
  }

  /** Loads the session list and opens the session named in the URL, or the most recent one. */
  async start(): Promise<void> {
    const sessions = await this.#actions.reloadList();
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
    await this.#actions.reloadList();
    if (sessionIds[0]) await this.open(sessionIds[0]);
  }

  stopAll(): void {
    this.#socket?.close();
    this.#socket = null;
    this.#events.reset();
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
    this.#composer.setBusy(false);
    this.#transcript.clear();
    this.#history.close();
    this.#pending.clear();
    this.#session = null;
    this.#showSession(null);
    this.#composer.showDraft(sessionId);
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
      onEvent: (ev) => this.#events.onEvent(ev),
      onStatus: (st) => this.#events.onStatus(sessionId, st),
      onAccountDisabled: () => this.api.accountDisabled(),
    });
  }

  /** Sends the message box; the first message of a blank chat creates the chat first. */
  sendMessage(): Promise<void> {
    return this.#composer.send();
  }

  /** Stops the running turn; false when none runs. */
  stop(): boolean {
    return this.#composer.stop();
  }

  showError(message: string): void {
    this.#errorText.textContent = message;
    this.#errorBox.hidden = false;
  }

  clearError(): void {
    this.#errorBox.hidden = true;
    this.#errorText.textContent = '';
  }

  #reloadAfterReconnect(sessionId: string): void {
    void this.#loadHistory(sessionId).catch((err: unknown) => this.showError(`Could not reload the chat: ${describeError(err)}`));
    void this.#files.refresh();
  }

  /** Shows the stored history again after a turn, unless another turn began meanwhile. */
  #refreshHistory(sessionId: string): void {
    const idle = () => !this.#composer.busy && this.#session?.session_id === sessionId;
    const refresh = async () => {
      const detail = await this.#history.open(sessionId, idle);
      if (idle()) this.#putBackUnsent(detail.messages);
    };
    void refresh().catch((err: unknown) => this.showError(`Could not reload the chat: ${describeError(err)}`));
  }

  async #loadHistory(sessionId: string): Promise<void> {
    const detail = await this.#history.open(sessionId);
    this.#putBackUnsent(detail.messages);
    this.#showSession(detail.session);
  }

  /** A refused message stays below the history shown again, with its text and Retry. */
  #putBackUnsent(messages: ReadonlyArray<{ role: string; seq: number; content: string | null }>): void {
    for (const bubble of this.#pending.unsent(messages.filter((m) => m.role === 'user'))) this.#transcript.appendUser(bubble);
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
    this.#list.merge(current.session_id, ev.title === undefined ? {} : { title: ev.title });
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

  #focusCurrentInList(): void {
    document.querySelector<HTMLElement>('[data-testid=session-open][aria-current=page]')?.focus();
  }
}
