/**
 * The conversation on screen: history rows from the REST API and the live events of a turn, in the
 * order they happened — user bubbles, streamed markdown answers, reasoning, and tool cards.
 */
import { h } from './dom.js';
import { renderMarkdown } from './markdown.js';
import type { Message } from './protocol.js';
import { copyButton, enhance } from './rich.js';
import { ToolCard } from './tool-card.js';
import { UserBubble } from './user-bubble.js';

class AnswerBubble {
  readonly el: HTMLElement;
  readonly #body: HTMLDivElement;
  #text = '';
  #scheduled = false;

  constructor(text = '') {
    this.#body = h('div', { class: 'markdown' });
    const actions = h('div', { class: 'msg-actions' }, copyButton('Copy the answer', () => this.#text, { 'data-testid': 'copy-answer' }));
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

  constructor(list: HTMLOListElement) {
    this.#list = list;
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
    const nodes = messages.flatMap((m) => this.#historyNodes(m));
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
  addUser(text: string, onRetry: (bubble: UserBubble) => void): UserBubble {
    const bubble = new UserBubble(text, onRetry);
    this.appendUser(bubble);
    return bubble;
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
    if (m.role === 'user') return [new UserBubble(m.content ?? '').el];
    if (m.role === 'assistant') {
      const reasoning = m.reasoning ? [reasoningNode(m.reasoning).el] : [];
      if (reasoning.length > 0 && !m.content) return reasoning;
      const bubble = new AnswerBubble(m.content ?? '');
      if (m.partial || m.status === 'interrupted') bubble.markPartial('Stopped — the text so far is kept.');
      else if (m.status === 'failed') bubble.markPartial('The answer ended with an error.');
      return [...reasoning, bubble.el];
    }
    const card = new ToolCard(m.tool_call_id ?? m.id, m.tool_name ?? 'tool');
    card.setArguments(m.tool_arguments);
    if (m.status === null) card.setStatus('running');
    else card.complete(m.tool_result, m.status === 'completed', m.status === 'interrupted');
    if (m.tool_call_id) this.#cards.set(m.tool_call_id, card);
    return [h('li', { class: 'msg msg-tool' }, card.el, card.media)];
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
