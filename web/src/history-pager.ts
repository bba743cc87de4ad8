/**
 * The stored history of the open chat, a page at a time: a chat opens with its newest page, and
 * older pages load above it when the reader scrolls near the top (or presses "Load earlier
 * messages"), so a chat of thousands of messages opens as fast as a short one.
 */
import type { ApiClient } from './api.js';
import { describeError } from './api.js';
import { byId } from './dom.js';
import { MessagePageSchema, SessionDetailSchema, type SessionDetail } from './protocol.js';
import type { Transcript } from './transcript.js';

/** Messages per history request. */
export const HISTORY_PAGE = 100;
/** How far above the viewport the top of the loaded history may be before the next older page loads. */
const EARLIER_MARGIN_PX = 600;

export class HistoryPager {
  readonly #button = byId<HTMLButtonElement>('load-earlier');
  #sessionId: string | null = null;
  #oldestSeq: number | null = null;
  #newestSeq = 0;
  #loading = false;
  /** History reads on their way (the transcript is busy until the last one is shown). */
  #opening = 0;

  constructor(
    private readonly api: ApiClient,
    private readonly transcript: Transcript,
    private readonly showError: (message: string) => void,
  ) {
    this.#button.addEventListener('click', () => void this.older());
    new IntersectionObserver((entries) => entries.some((e) => e.isIntersecting) && void this.older(), {
      root: this.#button.parentElement,
      rootMargin: `${EARLIER_MARGIN_PX}px 0px 0px 0px`,
    }).observe(this.#button);
  }

  /** The newest stored seq as last loaded (0 for an empty chat). */
  get newestSeq(): number {
    return this.#newestSeq;
  }

  /**
   * Shows the newest page of `sessionId`'s active path from scratch; answers the session and that
   * page. With `stillWanted`, a page that arrives when it answers false is not shown (a turn began).
   */
  async open(sessionId: string, stillWanted: () => boolean = () => true): Promise<SessionDetail> {
    // The transcript is about to be replaced: assistive technology (and anything reading the page)
    // waits for the stored history instead of reading rows that are on their way out.
    this.#opening += 1;
    this.transcript.loading(true);
    try {
      return await this.#open(sessionId, stillWanted);
    } finally {
      this.#opening -= 1;
      if (this.#opening === 0) this.transcript.loading(false);
    }
  }

  async #open(sessionId: string, stillWanted: () => boolean): Promise<SessionDetail> {
    const detail = await this.api.json('GET', `/sessions/${encodeURIComponent(sessionId)}?limit=${HISTORY_PAGE}`, SessionDetailSchema);
    if (!stillWanted()) return detail;
    this.#sessionId = sessionId;
    this.transcript.clear();
    this.transcript.showHistory(detail.messages);
    this.#oldestSeq = detail.messages[0]?.seq ?? null;
    this.#newestSeq = detail.messages.at(-1)?.seq ?? 0;
    this.#button.hidden = !detail.has_more;
    return detail;
  }

  /** No chat, or a blank one, is open. */
  close(): void {
    this.#sessionId = null;
    this.#oldestSeq = null;
    this.#newestSeq = 0;
    this.#button.hidden = true;
  }

  /** Loads the page before the oldest one shown, above it. */
  async older(): Promise<void> {
    const sessionId = this.#sessionId;
    if (sessionId === null || this.#oldestSeq === null || this.#button.hidden || this.#loading) return;
    this.#loading = true;
    try {
      const page = await this.api.json('GET', `/sessions/${encodeURIComponent(sessionId)}/messages?before_seq=${this.#oldestSeq}&limit=${HISTORY_PAGE}`, MessagePageSchema);
      // Another chat was opened meanwhile: this page is not its history.
      if (this.#sessionId !== sessionId) return;
      this.transcript.showHistory(page.messages, true);
      this.#oldestSeq = page.messages[0]?.seq ?? this.#oldestSeq;
      this.#button.hidden = !page.pagination.has_more;
    } catch (err) {
      this.showError(`Could not load earlier messages: ${describeError(err)}`);
    } finally {
      this.#loading = false;
    }
  }
}
