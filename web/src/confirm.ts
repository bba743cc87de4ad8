/**
 * An in-page confirmation (a modal `<dialog>`, so it stacks above the API keys or admin dialog):
 * focus starts on Cancel, Escape cancels, and the answer is a promise.
 */
import { byId } from './dom.js';

export interface ConfirmOptions {
  title: string;
  message: string;
  /** The label of the button that goes ahead, e.g. "Delete user". */
  confirm: string;
}

export function confirmAction(options: ConfirmOptions): Promise<boolean> {
  const dialog = byId<HTMLDialogElement>('confirm-dialog');
  byId('confirm-heading').textContent = options.title;
  byId('confirm-message').textContent = options.message;
  byId('confirm-ok').textContent = options.confirm;
  dialog.returnValue = 'cancel';
  dialog.showModal();
  byId('confirm-cancel').focus();
  return new Promise((resolve) => {
    dialog.addEventListener('close', () => resolve(dialog.returnValue === 'ok'), { once: true });
  });
}
