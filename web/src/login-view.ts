/** The login / register form of jwt mode. Resolves once the user holds tokens. */
import { ApiClient, describeError } from './api.js';
import { byId } from './dom.js';

export function showLogin(api: ApiClient, allowRegistration: boolean): Promise<void> {
  const view = byId('login-view');
  const form = byId<HTMLFormElement>('login-form');
  const email = byId<HTMLInputElement>('login-email');
  const password = byId<HTMLInputElement>('login-password');
  const name = byId<HTMLInputElement>('login-name');
  const nameRow = byId('login-name-row');
  const submit = byId<HTMLButtonElement>('login-submit');
  const toggle = byId<HTMLButtonElement>('login-toggle');
  const error = byId('login-error');
  let mode: 'login' | 'register' = 'login';

  const setMode = (next: 'login' | 'register') => {
    mode = next;
    nameRow.hidden = mode === 'login';
    submit.textContent = mode === 'login' ? 'Log in' : 'Create account';
    toggle.textContent = mode === 'login' ? 'No account yet? Register' : 'Have an account? Log in';
    password.autocomplete = mode === 'login' ? 'current-password' : 'new-password';
    error.textContent = '';
  };
  toggle.hidden = !allowRegistration;
  setMode('login');
  byId('app-view').hidden = true;
  view.hidden = false;
  email.focus();

  return new Promise((resolve) => {
    const onSubmit = async (ev: SubmitEvent) => {
      ev.preventDefault();
      error.textContent = '';
      submit.disabled = true;
      try {
        const body = { email: email.value.trim(), password: password.value, ...(mode === 'register' && name.value.trim() ? { display_name: name.value.trim() } : {}) };
        await api.login(mode, body);
        form.removeEventListener('submit', submitListener);
        toggle.removeEventListener('click', onToggle);
        password.value = '';
        view.hidden = true;
        resolve();
      } catch (err) {
        error.textContent = describeError(err);
      } finally {
        submit.disabled = false;
      }
    };
    const onToggle = () => setMode(mode === 'login' ? 'register' : 'login');
    const submitListener = (ev: SubmitEvent) => void onSubmit(ev);
    form.addEventListener('submit', submitListener);
    toggle.addEventListener('click', onToggle);
  });
}
