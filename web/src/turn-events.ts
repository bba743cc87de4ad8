/**
 * The server-event dispatcher of the open chat: turns each event of its socket into transcript,
 * gauge, connection-line and list updates, and each change of the socket's status into a resume,
 * a reload or a failed send. It owns where the stream is, so a dropped connection can `resume` a
 * turn instead of reloading, and which turns this connection saw start, so a turn that began
 * before the page connected is replayed from its first event.
 */
import type { ChatSocket, SocketStatus } from './chat-socket.js';
import type { ConnectionView } from './connection-view.js';
import type { PendingSends } from './pending-sends.js';
import type { ServerEvent, Session } from './protocol.js';
import type { TokenGauge } from './token-gauge.js';
import type { Transcript } from './transcript.js';

/** Whether a turn runs, as the Stop button shows it (see `Composer`). */
export interface TurnIndicator {
  readonly busy: boolean;
  setBusy(busy: boolean): void;
  cancelWatchdog(): void;
}

export interface TurnEventDeps {
  transcript: Transcript;
  gauge: TokenGauge;
  connection: ConnectionView;
  pending: PendingSends;
  turn: TurnIndicator;
  /** The open chat (null: a blank chat). */
  session(): Session | null;
  /** The open chat's socket. */
  socket(): ChatSocket | null;
  /** The open chat's token count changed (a later `session_updated` renders from it). */
  setTotalTokens(tokens: number): void;
  sessionUpdated(ev: Extract<ServerEvent, { type: 'session_updated' }>): void;
  /** Shows the stored history and files again after a reconnect. */
  reloadAfterReconnect(sessionId: string): void;
  /** Shows the stored history again after a turn, unless another turn began meanwhile. */
  refreshHistory(sessionId: string): void;
  refreshFiles(): void;
  /** Reads the sidebar's list again (failures are ignored). */
  reloadList(): void;
  showError(message: string): void;
}

export class TurnEvents {
  /** The last turn event seen of a turn that has not ended (for `resume` after a reconnect). */
  #streaming: { turnId: string; seq: number } | null = null;
  #resuming = false;
  /** Turns this connection has seen from their `assistant_start`; events of any other turn started before the page connected. */
  readonly #knownTurns = new Set<string>();
  /** The turn being replayed from its start (see `Transcript.dropRunningTurn`). */
  #catchingUp: string | null = null;

  constructor(private readonly deps: TurnEventDeps) {}

  /** The socket closed or another chat opens: nothing is streaming or known any more. */
  reset(): void {
    this.#streaming = null;
    this.#resuming = false;
    this.#knownTurns.clear();
    this.#catchingUp = null;
  }

  onEvent(ev: ServerEvent): void {
    const { deps } = this;
    // Where the stream is, so a dropped connection can `resume` it instead of reloading.
    const turnId = 'turn_id' in ev && typeof ev.turn_id === 'string' ? ev.turn_id : undefined;
    const seq = 'seq' in ev && typeof ev.seq === 'number' ? ev.seq : undefined;
    if (turnId !== undefined && seq !== undefined && !this.#knownTurns.has(turnId)) {
      if (ev.type === 'assistant_start') {
        this.#knownTurns.add(turnId);
        if (this.#catchingUp === turnId) deps.transcript.dropRunningTurn();
        this.#catchingUp = null;
      } else {
        // A turn that began before this page connected (a reload, a second tab): the history shows
        // it only up to its last checkpoint, so replay it from its first event on a new connection.
        if (this.#catchingUp !== turnId) {
          this.#catchingUp = turnId;
          this.#resuming = true;
          deps.turn.setBusy(true);
          deps.socket()?.restart({ type: 'resume', turn_id: turnId, after_seq: 0 });
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
      const session = deps.session();
      if (session) deps.reloadAfterReconnect(session.session_id);
      return;
    }
    // A turn seen mid-way (after a reconnect, or started in another tab) can be stopped here too.
    // (A decision on a paused turn is no sign of it running: the turn says assistant_start when it goes on.)
    const running = ev.type !== 'assistant_end' && ev.type !== 'approval_resolved';
    if ('turn_id' in ev && ev.turn_id && running && !deps.turn.busy) deps.turn.setBusy(true);
    this.#dispatch(ev, turnId);
  }

  #dispatch(ev: ServerEvent, turnId: string | undefined): void {
    const { deps } = this;
    const { transcript, pending, connection } = deps;
    switch (ev.type) {
      case 'assistant_start':
        pending.started();
        deps.turn.cancelWatchdog();
        deps.turn.setBusy(true);
        transcript.startTurn();
        return;
      case 'assistant_delta':
        pending.answered();
        return transcript.appendText(ev.content);
      case 'reasoning_delta':
        pending.answered();
        return transcript.appendReasoning(ev.content);
      case 'function_detected':
        pending.answered();
        transcript.toolCard(ev.tool_call_id, ev.tool_name);
        return;
      case 'function_call_arguments_delta':
        return transcript.toolCard(ev.tool_call_id, 'tool').appendArguments(ev.delta);
      case 'function_executing':
        return transcript.toolCard(ev.tool_call_id, ev.tool_name).setArguments(ev.tool_arguments);
      case 'function_completed':
        return transcript.toolCard(ev.tool_call_id, ev.tool_name).complete(ev.tool_result, ev.tool_success, ev.interrupted === true);
      case 'token_usage':
        // Keep the session's count current too: a later session_updated re-renders from it.
        deps.setTotalTokens(ev.current);
        return deps.gauge.show(ev.current, ev.threshold, ev.limit);
      case 'stream_interrupted':
        connection.say('Stopping…');
        return;
      case 'approval_required':
        pending.answered();
        return transcript.askApproval(ev.tool_call_id, ev.tool_name, ev.tool_arguments, ev.expires_at);
      case 'approval_resolved':
        transcript.toolCard(ev.tool_call_id, 'tool').approvalResolved(ev.decision, ev.by);
        deps.reloadList();
        return;
      case 'assistant_end': {
        deps.turn.cancelWatchdog();
        const text = transcript.endTurn(ev.finish_reason);
        connection.announce(ev.finish_reason, text);
        deps.turn.setBusy(false);
        connection.say('Connected');
        // The stored rows carry the ids the edit, regenerate and version controls need.
        const session = deps.session();
        if (ev.finish_reason !== 'error' && !pending.hasFailed && session) deps.refreshHistory(session.session_id);
        deps.refreshFiles();
        deps.reloadList();
        return;
      }
      case 'session_updated':
        return deps.sessionUpdated(ev);
      case 'error':
        pending.refused(`Not answered: ${ev.message} (${ev.code})`, turnId !== undefined);
        // A refused frame starts no turn: nothing is running to stop.
        if (turnId === undefined && this.#streaming === null) deps.turn.setBusy(false);
        deps.turn.cancelWatchdog();
        return deps.showError(`${ev.message} (${ev.code})`);
      case 'server_shutdown':
        connection.say('The server is shutting down…');
        return;
      case 'ping':
      case 'pong':
        return;
    }
  }

  onStatus(sessionId: string, st: SocketStatus): void {
    const { deps } = this;
    if (deps.session()?.session_id !== sessionId && st.state !== 'failed') return;
    deps.connection.show(st);
    if (st.state === 'open') {
      // After a dropped connection: a turn that was streaming goes on where it stopped (resume);
      // otherwise what happened meanwhile is in the stored history.
      if (st.reconnected) {
        const streaming = this.#streaming;
        if (streaming && deps.socket()?.send({ type: 'resume', turn_id: streaming.turnId, after_seq: streaming.seq })) {
          this.#resuming = true;
        } else {
          deps.reloadAfterReconnect(sessionId);
        }
      }
    } else if (st.state === 'waiting') {
      deps.pending.dropped('Not sent: the connection dropped before the server got it.');
      deps.turn.cancelWatchdog();
      deps.turn.setBusy(false);
    } else if (st.state === 'failed') {
      deps.pending.dropped('Not sent: the connection was lost.');
      deps.showError(st.reason);
    }
  }
}
