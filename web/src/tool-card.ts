/**
 * A tool call as a collapsible card: name, status (running, success, failed, interrupted), the
 * arguments and the result. The summarization call gets the same card with its own label.
 */
import { h } from './dom.js';
import { SUMMARY_TOOL } from './protocol.js';

export type ToolStatus = 'running' | 'success' | 'failed' | 'interrupted';

const STATUS_LABEL: Record<ToolStatus, string> = {
  running: 'running…',
  success: 'succeeded',
  failed: 'failed',
  interrupted: 'interrupted',
};

export class ToolCard {
  readonly el: HTMLDetailsElement;
  readonly #status: HTMLSpanElement;
  readonly #args: HTMLPreElement;
  readonly #result: HTMLPreElement;
  readonly #resultBlock: HTMLElement;
  #rawArgs = '';

  constructor(readonly toolCallId: string, readonly toolName: string) {
    const summary = toolName === SUMMARY_TOOL;
    this.#status = h('span', { class: 'tool-status', 'data-testid': 'tool-status' });
    this.#args = h('pre', { class: 'tool-args', 'data-testid': 'tool-arguments' });
    this.#result = h('pre', { class: 'tool-result', 'data-testid': 'tool-result' });
    this.#resultBlock = h('div', { hidden: true }, h('h4', {}, summary ? 'Summary' : 'Result'), this.#result);
    this.el = h(
      'details',
      { class: summary ? 'tool-card summary-card' : 'tool-card', 'data-testid': summary ? 'summary-card' : 'tool-card', 'data-tool-name': toolName },
      h(
        'summary',
        {},
        h('span', { class: 'tool-icon', 'aria-hidden': 'true' }, summary ? '∑' : '⚙'),
        h('span', { class: 'tool-name', 'data-testid': 'tool-name' }, summary ? 'Conversation summarized' : toolName),
        ' ',
        this.#status,
      ),
      h('div', { class: 'tool-body' }, h('h4', {}, summary ? 'Details' : 'Arguments'), this.#args, this.#resultBlock),
    );
    this.setStatus('running');
  }

  appendArguments(delta: string): void {
    this.#rawArgs += delta;
    this.#args.textContent = this.#rawArgs;
  }

  setArguments(args: Record<string, unknown> | null): void {
    this.#args.textContent = JSON.stringify(args ?? {}, null, 2);
  }

  complete(result: string | null, success: boolean, interrupted: boolean): void {
    this.setStatus(interrupted ? 'interrupted' : success ? 'success' : 'failed');
    this.#result.textContent = prettyResult(result ?? '');
    this.#resultBlock.hidden = false;
  }

  setStatus(status: ToolStatus): void {
    this.el.dataset.status = status;
    this.#status.textContent = STATUS_LABEL[status];
    this.#status.className = `tool-status status-${status}`;
  }
}

/** Results are JSON strings for built-in tools; indent them when they parse. */
function prettyResult(result: string): string {
  try {
    return JSON.stringify(JSON.parse(result), null, 2);
  } catch {
    return result;
  }
}
