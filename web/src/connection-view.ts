/**
 * What the chat screen says about its connection and its answers: the status line in the header
 * (a polite live region), the reconnect banner while the connection is down (visual; the status
 * line already tells screen readers), and the one announcement of a finished answer.
 */
import { byId } from './dom.js';
import type { SocketStatus } from './chat-socket.js';

/** At most this much of a finished answer is read out by screen readers. */
const ANNOUNCE_CHARS = 400;

export class ConnectionView {
  readonly #status = byId('connection-status');
  readonly #banner = byId('reconnect-banner');
  readonly #announcer = byId('announcer');

  /** Another chat was opened: nothing to say yet. */
  reset(): void {
    this.#status.textContent = '';
    delete this.#status.dataset.state;
    this.#banner.hidden = true;
  }

  /** A line of the status, such as "Stopping…". */
  say(text: string): void {
    this.#status.textContent = text;
  }

  show(st: SocketStatus): void {
    this.#status.dataset.state = st.state;
    if (st.state === 'connecting') {
      this.#status.textContent = 'Connecting…';
      if (!this.#banner.hidden) this.#banner.textContent = 'Reconnecting to the server…';
    } else if (st.state === 'open') {
      this.#banner.hidden = true;
      this.#status.textContent = 'Connected';
    } else if (st.state === 'waiting') {
      this.#status.textContent = `${st.reason} Reconnecting in ${Math.ceil(st.retryInMs / 1000)} s…`;
      this.#banner.textContent = this.#status.textContent;
      this.#banner.hidden = false;
    } else {
      this.#banner.hidden = true;
      this.#status.textContent = 'Disconnected';
    }
  }

  /**
   * Screen readers hear a finished answer once (the transcript itself is not a live region, so
   * streamed words do not flood them).
   */
  announce(finishReason: string, text: string): void {
    const plain = text.replace(/[`*_#>|$\\]+/g, ' ').replace(/\s+/g, ' ').trim();
    const head = plain.length > ANNOUNCE_CHARS ? `${plain.slice(0, ANNOUNCE_CHARS)}…` : plain;
    const what = finishReason === 'stop' ? 'Pulp answered' : finishReason === 'interrupted' ? 'The answer was stopped' : 'The answer ended early';
    this.#announcer.textContent = head ? `${what}: ${head}` : `${what}.`;
  }
}
