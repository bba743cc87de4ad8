/**
 * The conversation on screen: history rows from the REST API and the live events of a turn, in the
 * order they happened — user bubbles, streamed markdown answers, reasoning, and tool cards.
 */
import { answerControls, siblingNav, userControls, type BranchActions } from './branch-controls.js';
import { h } from './dom.js';
import { renderMarkdown } from './markdown.js';
import type { Message } from './protocol.js';
import { copyButton, enhance } from './rich.js';
import { ToolCard, type ApprovalAnswer } from './tool-card.js';
import { UserBubble } from './user-bubble.js';

class AnswerBubble {
  readonly el: HTMLElement;
  readonly #body: HTMLDivElement;
  #text = '';
  #scheduled = false;

  constructor(text = '', controls: HTMLElement[] = []) {
    this.#body = h('div', { class: 'markdown' });
    const actions = h('div', { class: 'msg-actions' }, copyButton('Copy the answer', () => this.#text, { 'data-testid': 'copy-answer' }), ...controls);
    this.el = h('li', { class: 'msg msg-assistant', 'data-testid': 'assistant-message' }, h('span', { class: 'sr-only' }, 'Assistant:'), this.#body, actions);
    this.#text = text;
    this.#render();
  }

  append(delta: string): void {
    this.#text += delta;
    // Re-render at most once per frame: markdown of a long answer is not re-parsed per word.
    if (this.#scheduled) return;
    this.#scheduled = true;
    requestAnimationFrame(() => {
      this.#scheduled = false;
      this.#render();
    });
  }

  markStreaming(on: boolean): void {
    this.el.classList.toggle('streaming', on);
    this.el.setAttribute('aria-busy', String(on));
    if (!on) this.#render();
  }

  get text(): string {
    return this.#text;
  }

  markPartial(note: string): void {
    this.el.dataset.partial = 'true';
    this.el.append(h('p', { class: 'partial-note', 'data-testid': 'partial-note' }, note));
  }

  #render(): void {
    this.#body.innerHTML = renderMarkdown(this.#text);
    enhance(this.#body);
  }
}

export class Transcript {
  readonly #list: HTMLOListElement;
  readonly #cards = new Map<string, ToolCard>();
  #answer: AnswerBubble | null = null;
  #reasoning: HTMLPreElement | null = null;
  /** Edit, regenerate and version switching on stored messages; none until the controller sets them. */
  #branch: BranchActions | null = null;

  /** `answer` sends the user's choice on an approval card (src/approvals on the server). */
  constructor(
    list: HTMLOListElement,
    private readonly answer: (toolCallId: string, choice: ApprovalAnswer) => void = () => undefined,
  ) {
    this.#list = list;
  }

  /** The stored history is on its way to replace what is shown (`aria-busy` while it loads). */
  loading(on: boolean): void {
    if (on) this.#list.setAttribute('aria-busy', 'true');
    else this.#list.removeAttribute('aria-busy');
  }

  setBranchActions(actions: BranchActions): void {
    this.#branch = actions;
  }

  /**
   * Makes way for a new version: the stored row `messageId` and everything after it (an edit), or
   * with `keepQuestion` everything after the user message the row belongs to (a regenerate).
   */
  dropBranchFrom(messageId: string, keepQuestion: boolean): void {
    const rows = [...this.#list.children] as HTMLElement[];
    let at = rows.findIndex((r) => r.dataset.messageId === messageId);
    if (at < 0) return;
    if (keepQuestion) {
      while (at >= 0 && rows[at]?.dataset.role !== 'user') at--;
      at++;
    }
    for (const row of rows.slice(at)) row.remove();
    this.#answer = null;
    this.#reasoning = null;
  }

  /** A tool call waits for the user's approval: its card asks. */
  askApproval(toolCallId: string, toolName: string, args: Record<string, unknown>, expiresAt: string | null): void {
    const card = this.toolCard(toolCallId, toolName);
    card.setArguments(args);
    card.askApproval(expiresAt, (choice) => this.answer(toolCallId, choice));
  }

  clear(): void {
    this.#list.replaceChildren();
    this.#cards.clear();
    this.#answer = null;
    this.#reasoning = null;
  }

  /**
   * Renders history rows (oldest first); `prepend` puts an older page above what is shown and
   * keeps the rows the reader is looking at where they are.
   */
  showHistory(messages: Message[], prepend = false): void {
    const nodes = messages.flatMap((m) => {
      const made = this.#historyNodes(m);
      // Each row's nodes carry its id, so a search result can open the chat at it.
      for (const node of made) node.dataset.messageId = m.id;
      return made;
    });
    const scroller = this.#list.parentElement;
    if (!prepend || !scroller) {
      this.#list.append(...nodes);
      this.#scroll();
      return;
    }
    const fromBottom = scroller.scrollHeight - scroller.scrollTop;
    this.#list.prepend(...nodes);
    scroller.scrollTop = scroller.scrollHeight - fromBottom;
  }

  /** A message the user just sent; `onRetry` sends it again should it fail. */
  addUser(text: string, onRetry: (bubble: UserBubble) => void, attachments: readonly string[] = []): UserBubble {
    const bubble = new UserBubble(text, onRetry, attachments);
    this.appendUser(bubble);
    return bubble;
  }

  /** Removes the rows after a user's bubble (a failed answer that a retry answers again). */
  dropAfter(bubble: UserBubble): void {
    while (bubble.el.nextElementSibling) bubble.el.nextElementSibling.remove();
    this.#answer = null;
    this.#reasoning = null;
  }

  /** Puts a sent message's bubble (back) at the end, e.g. an unsent one after the history was reloaded. */
  appendUser(bubble: UserBubble): void {
    this.#list.append(bubble.el);
    this.#scroll();
  }

  startTurn(): void {
    this.#finishSegment();
  }

  appendText(delta: string): void {
    if (!this.#answer) {
      this.#answer = new AnswerBubble();
      this.#answer.markStreaming(true);
      this.#list.append(this.#answer.el);
    }
    this.#answer.append(delta);
    this.#scroll();
  }

  appendReasoning(delta: string): void {
    if (!this.#reasoning) {
      const node = reasoningNode('');
      this.#reasoning = node.text;
      this.#list.append(node.el);
    }
    this.#reasoning.textContent += delta;
  }

  /** A tool call started: the text before it is its own segment, as in the stored history. */
  toolCard(toolCallId: string, toolName: string): ToolCard {
    let card = this.#cards.get(toolCallId);
    if (!card) {
      this.#finishSegment();
      card = new ToolCard(toolCallId, toolName);
      this.#cards.set(toolCallId, card);
      this.#list.append(h('li', { class: 'msg msg-tool' }, card.el, card.media));
      this.#scroll();
    }
    return card;
  }

  /** Ends the turn; answers with the text of its last answer segment (for the screen-reader announcement). */
  endTurn(finishReason: string): string {
    const text = this.#answer?.text ?? '';
    if (finishReason === 'interrupted') this.#answer?.markPartial('Stopped — the text so far is kept.');
    else if (finishReason === 'error') this.#answer?.markPartial('The answer ended with an error.');
    else if (finishReason === 'max_turns') this.#answer?.markPartial('The agent reached its limit of steps for one turn.');
    for (const card of this.#cards.values()) if (card.el.dataset.status === 'running') card.setStatus('interrupted');
    this.#finishSegment();
    return text;
  }

  /**
   * A turn that was already running when this page connected is replayed from its first event:
   * what the history showed of it (the rows after the last user message) makes way for the replay.
   */
  dropRunningTurn(): void {
    const users = this.#list.querySelectorAll('[data-testid=user-message]');
    const lastUser = users[users.length - 1];
    const rows = [...this.#list.children];
    const from = lastUser ? rows.indexOf(lastUser) + 1 : 0;
    for (const row of rows.slice(from)) row.remove();
    // The replay brings their cards back: the removed ones must not be found and filled instead.
    for (const [id, card] of this.#cards) if (!card.el.isConnected) this.#cards.delete(id);
    this.#answer = null;
    this.#reasoning = null;
  }

  #finishSegment(): void {
    this.#answer?.markStreaming(false);
    this.#answer = null;
    this.#reasoning = null;
  }

  /** One stored row as shown: an assistant row with reasoning is the collapsed reasoning, then its text (if any). */
  #historyNodes(m: Message): HTMLElement[] {
    const nodes = this.#rowNodes(m);
    const row = nodes.at(-1);
    if (row) Object.assign(row.dataset, { messageId: m.id, role: m.role });
    return nodes;
  }

  #rowNodes(m: Message): HTMLElement[] {
    const branch = this.#branch;
    if (m.role === 'user') {
      const bubble = new UserBubble(m.content ?? '', undefined, (m.attachments ?? []).map((a) => a.file));
      if (branch) bubble.el.append(userControls(bubble.el, m, branch));
      return [bubble.el];
    }
    if (m.role === 'assistant') {
      const reasoning = m.reasoning ? [reasoningNode(m.reasoning).el] : [];
      if (reasoning.length > 0 && !m.content) return reasoning;
      const bubble = new AnswerBubble(m.content ?? '', branch ? answerControls(m, branch) : []);
      if (m.partial || m.status === 'interrupted') bubble.markPartial('Stopped — the text so far is kept.');
      else if (m.status === 'failed') bubble.markPartial('The answer ended with an error.');
      return [...reasoning, bubble.el];
    }
    const card = new ToolCard(m.tool_call_id ?? m.id, m.tool_name ?? 'tool');
    card.setArguments(m.tool_arguments);
    if (m.status === null) card.setStatus('running');
    else if (m.status === 'awaiting_approval') card.askApproval(m.approval?.expires_at ?? null, (choice) => this.answer(m.tool_call_id ?? m.id, choice));
    else card.complete(m.tool_result, m.status === 'completed', m.status === 'interrupted');
    if (m.approval && m.approval.decision !== 'pending') card.approvalResolved(m.approval.decision, m.approval.by);
    if (m.status === 'denied') card.setStatus('denied');
    if (m.tool_call_id) this.#cards.set(m.tool_call_id, card);
    // An answer that starts with a tool call carries its versions on the card's row.
    return [h('li', { class: 'msg msg-tool' }, card.el, card.media, branch ? siblingNav(m, branch) : null)];
  }

  #scroll(): void {
    const scroller = this.#list.parentElement;
    if (scroller) scroller.scrollTop = scroller.scrollHeight;
  }
}

/** The model's reasoning, collapsed: the same node while it streams and from the history. */
function reasoningNode(text: string): { el: HTMLElement; text: HTMLPreElement } {
  const pre = h('pre', { class: 'reasoning-text', 'data-testid': 'reasoning-text' }, text);
  const el = h('li', { class: 'msg msg-reasoning', 'data-testid': 'reasoning' }, h('details', {}, h('summary', {}, 'Reasoning'), pre));
  return { el, text: pre };
}
