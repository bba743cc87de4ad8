/**
 * A tool call as a collapsible card: name, status (running, success, failed, interrupted), the
 * arguments and the result. The summarization call gets the same card with its own label.
 */
import { h } from './dom.js';
import { SUMMARY_TOOL } from './protocol.js';
import { openWorkspaceFile, thumbnails } from './workspace-media.js';

export type ToolStatus = 'running' | 'success' | 'failed' | 'interrupted' | 'awaiting' | 'denied';

const STATUS_LABEL: Record<ToolStatus, string> = {
  running: 'running…',
  success: 'succeeded',
  failed: 'failed',
  interrupted: 'interrupted',
  awaiting: 'waiting for your approval',
  denied: 'denied',
};

/** What the user answers on an approval card. */
export type ApprovalAnswer = { decision: 'approve'; always: boolean } | { decision: 'deny'; reason: string };

const DECISION_LABEL: Record<string, string> = { approved: 'Approved', denied: 'Denied', expired: 'Not approved in time', interrupted: 'Stopped' };

export class ToolCard {
  readonly el: HTMLDetailsElement;
  /** Shown beside the card (visible while it is folded): images the tool wrote, sources it found. */
  readonly media: HTMLDivElement = h('div', { class: 'tool-media', hidden: true });
  readonly #status: HTMLSpanElement;
  readonly #args: HTMLPreElement;
  readonly #result: HTMLPreElement;
  readonly #resultBlock: HTMLElement;
  readonly #body: HTMLElement;
  #approval: HTMLElement | null = null;
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
      (this.#body = h('div', { class: 'tool-body' }, h('h4', {}, summary ? 'Details' : 'Arguments'), this.#args, this.#resultBlock)),
    );
    this.setStatus('running');
  }

  /**
   * The call waits for the user: the card opens on its arguments with Approve, Deny (with an
   * optional reason) and "Always allow in this chat"; `answer` sends the choice.
   */
  askApproval(expiresAt: string | null, answer: (choice: ApprovalAnswer) => void): void {
    this.setStatus('awaiting');
    this.el.open = true;
    this.#approval?.remove();
    const reason = h('input', { type: 'text', class: 'approval-reason', 'data-testid': 'approval-reason', maxlength: '2000', placeholder: 'Reason (optional, for Deny)', 'aria-label': 'Reason for denying' });
    const button = (label: string, testid: string, cls: string, choice: () => ApprovalAnswer) => {
      const b = h('button', { type: 'button', class: cls, 'data-testid': testid }, label);
      b.addEventListener('click', () => {
        for (const el of this.#approval?.querySelectorAll('button, input') ?? []) (el as HTMLButtonElement).disabled = true;
        answer(choice());
      });
      return b;
    };
    const until = expiresAt ? h('span', { class: 'approval-expiry' }, ` Waits until ${new Date(expiresAt).toLocaleString()}.`) : null;
    this.#approval = h(
      'div',
      { class: 'approval', 'data-testid': 'approval-card', role: 'group', 'aria-label': `Approve ${this.toolName}?` },
      h('p', {}, h('strong', {}, `Run ${this.toolName}?`), until),
      h(
        'div',
        { class: 'approval-actions' },
        button('Approve', 'approval-approve', 'primary', () => ({ decision: 'approve', always: false })),
        button('Deny', 'approval-deny', 'danger', () => ({ decision: 'deny', reason: reason.value.trim() })),
        button('Always allow in this chat', 'approval-always', 'link', () => ({ decision: 'approve', always: true })),
      ),
      reason,
    );
    this.#body.prepend(this.#approval);
  }

  /** The call was decided (here, in another tab, by a timeout): the buttons go, the decision stays. */
  approvalResolved(decision: string, by: string | null): void {
    this.#approval?.remove();
    const text = `${DECISION_LABEL[decision] ?? decision}${by ? ` by ${by}` : ''}`;
    this.#approval = h('p', { class: 'approval-decision', 'data-testid': 'approval-decision' }, text);
    this.#body.prepend(this.#approval);
    if (decision === 'approved') this.setStatus('running');
  }

  appendArguments(delta: string): void {
    this.#rawArgs += delta;
    this.#args.textContent = this.#rawArgs;
  }

  setArguments(args: Record<string, unknown> | null): void {
    showLong(this.#args, JSON.stringify(args ?? {}, null, 2));
  }

  complete(result: string | null, success: boolean, interrupted: boolean): void {
    this.setStatus(interrupted ? 'interrupted' : success ? 'success' : 'failed');
    const { pretty, streams } = prettyResult(result ?? '');
    showLong(this.#result, pretty);
    // A program's output reads best as what a terminal would show.
    this.#resultBlock.querySelectorAll('.tool-stream').forEach((el) => el.remove());
    for (const [name, text] of streams) {
      const pre = h('pre', { class: 'tool-output' }, h('code', {}));
      showLong(pre, text);
      this.#resultBlock.append(h('div', { class: 'tool-stream', 'data-testid': `tool-${name}` }, h('h4', {}, name), pre));
    }
    this.#resultBlock.hidden = false;
    this.#showMedia(result);
  }

  /** Images a tool wrote (thumbnails above the details) and the sources a document search found. */
  #showMedia(result: string | null): void {
    this.media.replaceChildren();
    this.media.hidden = true;
    let parsed: unknown;
    try {
      parsed = JSON.parse(result ?? '');
    } catch {
      return;
    }
    if (typeof parsed !== 'object' || parsed === null) return;
    const record = parsed as { files?: unknown; path?: unknown; results?: unknown };
    const written = [
      ...(Array.isArray(record.files) ? record.files.map((f: { path?: unknown }) => (typeof f?.path === 'string' ? f.path : '')) : []),
      ...(typeof record.path === 'string' ? [record.path] : []),
    ];
    const media: HTMLElement[] = [];
    const strip = thumbnails(written);
    if (strip) media.push(strip);
    if (this.toolName === 'search_documents' && Array.isArray(record.results)) media.push(sourceList(record.results as SearchSource[]));
    this.media.append(...media);
    this.media.hidden = media.length === 0;
  }

  setStatus(status: ToolStatus): void {
    this.el.dataset.status = status;
    this.#status.textContent = STATUS_LABEL[status];
    this.#status.className = `tool-status status-${status}`;
  }
}

/** Longer than this many lines, a block shows its start and a button to show it all. */
export const COLLAPSE_LINES = 12;

/** Shows `text` in `pre`, folded to its first lines when it is long. */
function showLong(pre: HTMLPreElement, text: string): void {
  const target = pre.querySelector('code') ?? pre;
  target.textContent = text;
  const previous = pre.nextElementSibling;
  if (previous?.classList.contains('show-all')) previous.remove();
  const lines = text.split('\n').length;
  pre.classList.toggle('folded', lines > COLLAPSE_LINES);
  if (lines <= COLLAPSE_LINES) return;
  const more = h('button', { type: 'button', class: 'link show-all', 'aria-expanded': 'false' }, `Show all ${lines} lines`);
  more.addEventListener('click', () => {
    const folded = pre.classList.toggle('folded');
    more.setAttribute('aria-expanded', String(!folded));
    more.textContent = folded ? `Show all ${lines} lines` : 'Show less';
  });
  pre.after(more);
}

/**
 * Results are JSON strings for built-in tools: indented when they parse, and a program's
 * `stdout` / `stderr` taken out to be shown as output blocks of their own.
 */
function prettyResult(result: string): { pretty: string; streams: Array<[string, string]> } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(result);
  } catch {
    return { pretty: result, streams: [] };
  }
  const streams: Array<[string, string]> = [];
  if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) {
    const record = parsed as Record<string, unknown>;
    for (const name of ['stdout', 'stderr']) {
      const value = record[name];
      if (typeof value === 'string' && value.trim() !== '') streams.push([name, value.replace(/\n$/, '')]);
    }
  }
  return { pretty: JSON.stringify(parsed, null, 2), streams };
}

interface SearchSource {
  file?: string;
  page?: number | null;
  section?: string | null;
  source?: { kind?: string; folder?: string; path?: string };
}

/** The passages a document search found, as links that open their file (session files; library files are named). */
function sourceList(results: readonly SearchSource[]): HTMLElement {
  const list = h('ol', { class: 'sources', 'data-testid': 'sources' });
  const seen = new Set<string>();
  for (const r of results) {
    const where = r.page ? ` p. ${r.page}` : r.section ? ` § ${r.section}` : '';
    const label = `${r.file ?? '?'}${where}`;
    if (seen.has(label)) continue;
    seen.add(label);
    const { source } = r;
    if (source?.kind === 'session' && source.folder && source.path) {
      const path = `${source.folder}/${source.path}`;
      const link = h('a', { href: '#', 'data-testid': 'source-link' }, label);
      link.addEventListener('click', (event) => {
        event.preventDefault();
        openWorkspaceFile(path, r.page);
      });
      list.append(h('li', {}, link));
    } else list.append(h('li', {}, label));
  }
  return h('div', { class: 'tool-sources' }, h('h4', {}, 'Sources'), list);
}
