/**
 * One session's WebSocket: connects with the bearer subprotocol in jwt mode, parses
 * events, and reconnects after a dropped connection with exponential backoff and jitter. Close
 * codes that retrying cannot fix (4404, 4401 without a token) stop it and say why.
 */
import { ServerEventSchema, type ClientFrame, type ServerEvent } from './protocol.js';

export const RECONNECT_BASE_MS = 500;
export const RECONNECT_MAX_MS = 15_000;
/** A connect attempt that has not opened by then is abandoned and retried. */
export const CONNECT_TIMEOUT_MS = 10_000;

export type SocketStatus =
  | { state: 'connecting' }
  | { state: 'open'; reconnected: boolean }
  | { state: 'waiting'; retryInMs: number; reason: string }
  | { state: 'failed'; reason: string };

export interface ChatSocketOptions {
  sessionId: string;
  /** The access token for the subprotocol, or null in `none` mode. Called before every attempt. */
  token: () => Promise<string | null>;
  /** Spends the refresh token after a 4403; false when the user must log in again. */
  refresh: () => Promise<boolean>;
  onEvent: (event: ServerEvent) => void;
  onStatus: (status: SocketStatus) => void;
  /** The server closed the socket because an administrator disabled the account (4403 "Account disabled"). */
  onAccountDisabled?: () => void;
}

/** The close reason the server gives with 4403 when it disables an account with open sockets. */
export const ACCOUNT_DISABLED_REASON = 'Account disabled';

export class ChatSocket {
  #ws: WebSocket | null = null;
  #attempt = 0;
  #opened = false;
  #closed = false;
  #timer: ReturnType<typeof setTimeout> | undefined;
  /** Frames sent before the first connection opened; they go out, in order, when it does. */
  #queue: ClientFrame[] = [];
  readonly #options: ChatSocketOptions;

  constructor(options: ChatSocketOptions) {
    this.#options = options;
    void this.#connect();
  }

  get isOpen(): boolean {
    return this.#ws?.readyState === WebSocket.OPEN;
  }

  /** Sends a frame; false when the socket is not open (the caller tells the user). */
  send(frame: ClientFrame): boolean {
    if (!this.#ws || this.#ws.readyState !== WebSocket.OPEN) return false;
    this.#ws.send(JSON.stringify(frame));
    return true;
  }

  /**
   * Sends a frame, or keeps it until the first connection opens (a chat's first message is
   * typed before its socket exists). False when the connection was open once and dropped: then
   * the caller tells the user rather than send it minutes later.
   */
  sendOrQueue(frame: ClientFrame): boolean {
    if (this.send(frame)) return true;
    if (this.#opened || this.#closed) return false;
    this.#queue.push(frame);
    return true;
  }

  /**
   * Drops the connection and opens a new one whose first frame is `first` (a `resume` from the
   * start of a turn that was running before this page connected). Reported as a first open.
   */
  restart(first: ClientFrame): void {
    if (this.#closed) return;
    clearTimeout(this.#timer);
    const old = this.#ws;
    this.#ws = null;
    old?.close(1000, 'restarting');
    this.#opened = false;
    this.#queue = [first, ...this.#queue];
    void this.#connect();
  }

  /** Closes for good: no reconnect. */
  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#ws?.close(1000, 'client closed');
    this.#ws = null;
  }

  async #connect(): Promise<void> {
    if (this.#closed) return;
    this.#options.onStatus({ state: 'connecting' });
    let token: string | null;
    try {
      token = await this.#options.token();
    } catch {
      token = null;
    }
    if (this.#closed) return;
    const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
    const url = `${scheme}//${location.host}/ws/chat/${encodeURIComponent(this.#options.sessionId)}`;
    const ws = token ? new WebSocket(url, ['bearer', token]) : new WebSocket(url);
    this.#ws = ws;
    const giveUp = setTimeout(() => ws.close(4000, 'connect timeout'), CONNECT_TIMEOUT_MS);
    ws.addEventListener('open', () => {
      clearTimeout(giveUp);
      const reconnected = this.#opened;
      this.#opened = true;
      this.#attempt = 0;
      for (const frame of this.#queue.splice(0)) ws.send(JSON.stringify(frame));
      this.#options.onStatus({ state: 'open', reconnected });
    });
    ws.addEventListener('message', (msg) => {
      if (this.#ws !== ws || typeof msg.data !== 'string') return;
      let data: unknown;
      try {
        data = JSON.parse(msg.data);
      } catch {
        return;
      }
      const parsed = ServerEventSchema.safeParse(data);
      if (parsed.success) this.#options.onEvent(parsed.data);
    });
    ws.addEventListener('close', (ev) => {
      clearTimeout(giveUp);
      if (this.#ws !== ws || this.#closed) return;
      this.#ws = null;
      void this.#afterClose(ev.code, ev.reason);
    });
  }

  async #afterClose(code: number, reason: string): Promise<void> {
    if (code === 4403 && reason === ACCOUNT_DISABLED_REASON && this.#options.onAccountDisabled) {
      // Retrying cannot help: no refresh, no reconnect.
      this.#closed = true;
      this.#options.onStatus({ state: 'failed', reason: 'This account is disabled.' });
      return this.#options.onAccountDisabled();
    }
    if (code === 4404) return this.#options.onStatus({ state: 'failed', reason: 'This session no longer exists.' });
    if (code === 4401 || code === 4403) {
      if (!(await this.#options.refresh())) return this.#options.onStatus({ state: 'failed', reason: 'Your login has expired. Log in again.' });
    }
    const why =
      code === 1001
        ? 'The server is restarting.'
        : code === 4503
          ? 'The server is busy.'
          : code === 4429 && reason
            ? `${reason}.`
            : code === 4000
              ? 'The connection was idle.'
              : 'The connection dropped.';
    const delay = Math.min(RECONNECT_MAX_MS, RECONNECT_BASE_MS * 2 ** this.#attempt);
    const retryInMs = Math.round(delay / 2 + Math.random() * (delay / 2));
    this.#attempt += 1;
    this.#options.onStatus({ state: 'waiting', retryInMs, reason: why });
    this.#timer = setTimeout(() => void this.#connect(), retryInMs);
  }
}
