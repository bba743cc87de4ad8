/**
 * Keyboard shortcuts for the chat screen and the `?` overlay that lists them. Letters and `?` act
 * only outside text fields; the combinations with Ctrl/Alt act everywhere.
 */
import { byId, h } from './dom.js';

export interface ShortcutActions {
  newChat(): void;
  focusComposer(): void;
  stop(): boolean;
  moveChat(step: 1 | -1): void;
  toggleSidebar(): void;
  closeOverlays(): boolean;
}

/** What the overlay lists, in this order. */
export const SHORTCUTS: Array<[keys: string[], what: string]> = [
  [['Ctrl', 'Shift', 'O'], 'New chat'],
  [['Shift', 'Esc'], 'Focus the message box'],
  [['/'], 'Focus the message box (outside a text field)'],
  [['Enter'], 'Send the message'],
  [['Shift', 'Enter'], 'New line in the message'],
  [['Esc'], 'Stop the answer; close a menu or this list'],
  [['Alt', '↑'], 'Previous chat'],
  [['Alt', '↓'], 'Next chat'],
  [['Ctrl', 'Shift', 'S'], 'Show or hide the chat list (narrow screens)'],
  [['?'], 'Show this list'],
];

function typing(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false;
  return target.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(target.tagName);
}

export function installShortcuts(actions: ShortcutActions): void {
  const dialog = byId<HTMLDialogElement>('shortcuts-dialog');
  byId('shortcuts-list').replaceChildren(
    ...SHORTCUTS.map(([keys, what]) =>
      h('div', { class: 'shortcut' }, h('dt', {}, ...keys.flatMap((k, i) => [i > 0 ? ' + ' : null, h('kbd', {}, k)])), h('dd', {}, what)),
    ),
  );
  byId('shortcuts-close').addEventListener('click', () => dialog.close());
  byId('shortcuts-button').addEventListener('click', () => dialog.showModal());

  document.addEventListener('keydown', (ev) => {
    // While any dialog is open (this list, API keys, administration) its own keys apply, Escape closes it.
    if (ev.defaultPrevented || ev.isComposing || dialog.open || document.querySelector('dialog[open]')) return;
    const ctrl = ev.ctrlKey || ev.metaKey;
    const key = ev.key.toLowerCase();
    let handled = true;
    if (ctrl && ev.shiftKey && key === 'o') actions.newChat();
    else if (ctrl && ev.shiftKey && key === 's') actions.toggleSidebar();
    else if (ev.key === 'Escape' && ev.shiftKey) actions.focusComposer();
    else if (ev.altKey && !ctrl && (ev.key === 'ArrowUp' || ev.key === 'ArrowDown')) actions.moveChat(ev.key === 'ArrowDown' ? 1 : -1);
    else if (ev.key === 'Escape') handled = actions.closeOverlays() || actions.stop();
    else if (!typing(ev.target) && !ctrl && !ev.altKey && ev.key === '?') dialog.showModal();
    else if (!typing(ev.target) && !ctrl && !ev.altKey && ev.key === '/') actions.focusComposer();
    else handled = false;
    if (handled) ev.preventDefault();
  });
}
