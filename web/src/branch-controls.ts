/**
 * The controls of a conversation tree on stored messages: the pencil on a user message (edit it
 * in place and send the new wording as a sibling), regenerate on an answer, and `‹ n / m ›` to
 * switch between a message's versions. They only call back; the chat controller acts.
 */
import { h } from './dom.js';
import type { Message } from './protocol.js';

export interface BranchActions {
  /** Send `text` as a new version of the user message `m` (a sibling under its parent). */
  edit(m: Message, text: string): void;
  /** Answer again the question that `m` (an answer row or a user message) belongs to. */
  regenerate(m: Message): void;
  /** Show the branch through the message `id` (a sibling of a shown message). */
  switchTo(id: string): void;
}

/** `‹ n / m ›` for a message with other versions; null when it has none. */
export function siblingNav(m: Message, actions: BranchActions): HTMLElement | null {
  const ids = m.sibling_ids ?? [];
  const at = ids.indexOf(m.id);
  if (ids.length < 2 || at < 0) return null;
  const step = (delta: number, label: string, text: string, testid: string): HTMLButtonElement => {
    const target = ids[at + delta];
    const button = h('button', { type: 'button', class: 'sibling-step', 'aria-label': label, 'data-testid': testid, disabled: target === undefined }, text);
    if (target !== undefined) button.addEventListener('click', () => actions.switchTo(target));
    return button;
  };
  return h(
    'span',
    { class: 'sibling-nav', 'data-testid': 'sibling-nav' },
    step(-1, 'Previous version', '‹', 'sibling-prev'),
    h('span', { class: 'sibling-position', 'data-testid': 'sibling-position' }, `${at + 1} / ${ids.length}`),
    step(1, 'Next version', '›', 'sibling-next'),
  );
}

/** The controls under a stored user message: the pencil and the version switch. */
export function userControls(bubble: HTMLElement, m: Message, actions: BranchActions): HTMLElement {
  // The pencil is drawn by CSS: the bubble's text stays the user's words alone.
  const pencil = h('button', { type: 'button', class: 'edit-button', 'aria-label': 'Edit this message', title: 'Edit', 'data-testid': 'edit-message' });
  pencil.addEventListener('click', () => openEditor(bubble, m, actions));
  return h('div', { class: 'msg-actions user-actions' }, pencil, siblingNav(m, actions));
}

/** The regenerate button (and version switch) of a stored answer. */
export function answerControls(m: Message, actions: BranchActions): HTMLElement[] {
  const again = h('button', { type: 'button', class: 'regenerate-button', 'aria-label': 'Regenerate this answer', 'data-testid': 'regenerate-answer' }, '↻ Regenerate');
  again.addEventListener('click', () => actions.regenerate(m));
  const nav = siblingNav(m, actions);
  return nav ? [again, nav] : [again];
}

/** Replaces the bubble's text by a box holding it; Send makes the new version, Cancel or Escape puts the text back. */
function openEditor(bubble: HTMLElement, m: Message, actions: BranchActions): void {
  if (bubble.querySelector('.edit-box')) return;
  const shown = [...bubble.children].filter((c) => !c.classList.contains('sr-only')) as HTMLElement[];
  const box = h('textarea', { class: 'edit-box', 'data-testid': 'edit-box', 'aria-label': 'New wording of your message', rows: '3' });
  box.value = m.content ?? '';
  const send = h('button', { type: 'submit', class: 'primary', 'data-testid': 'edit-send' }, 'Send');
  const cancel = h('button', { type: 'button', 'data-testid': 'edit-cancel' }, 'Cancel');
  const form = h('form', { class: 'edit-form' }, box, h('div', { class: 'edit-buttons' }, cancel, send));
  const close = () => {
    form.remove();
    for (const el of shown) el.hidden = false;
  };
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const text = box.value;
    if (!text.trim()) return;
    close();
    actions.edit(m, text);
  });
  cancel.addEventListener('click', close);
  box.addEventListener('keydown', (ev) => {
    if (ev.key === 'Escape') close();
    else if (ev.key === 'Enter' && !ev.shiftKey && !ev.isComposing) {
      ev.preventDefault();
      form.requestSubmit();
    }
  });
  for (const el of shown) el.hidden = true;
  bubble.append(form);
  box.focus();
}
