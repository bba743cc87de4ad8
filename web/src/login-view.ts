/**
 * The login / register form of jwt mode, with "Sign in with …" when the server offers single
 * sign-on. Resolves once the user holds tokens.
 */
import { ApiClient, describeError } from './api.js';
import { byId } from './dom.js';
import { TokenPairSchema, type PublicConfig } from './protocol.js';

/** What the login screen offers, from `/config`. */
export interface LoginOptions {
  allowRegistration: boolean;
  passwordLogin: boolean;
  /** The identity provider's name when single sign-on is on. */
  singleSignOn: string | undefined;
}

export function loginOptions(config: PublicConfig): LoginOptions {
  return {
    allowRegistration: config.allow_registration ?? true,
    passwordLogin: config.password_login ?? true,
    singleSignOn: config.oidc?.enabled ? (config.oidc.name ?? 'single sign-on') : undefined,
  };
}

/**
 * After single sign-on the server redirects to `/#oidc=<base64url JSON of the token pair>`. Takes
 * the tokens from there (and the fragment out of the address bar and history); false when absent
 * or unreadable.
 */
export function takeSignOnTokens(api: ApiClient): boolean {
  const match = /^#oidc=([A-Za-z0-9_-]+)$/.exec(location.hash);
  if (!match?.[1]) return false;
  history.replaceState(null, '', location.pathname + location.search);
  try {
    const json: unknown = JSON.parse(atob(match[1].replace(/-/g, '+').replace(/_/g, '/')));
    const pair = TokenPairSchema.safeParse(json);
    if (!pair.success) return false;
    api.tokens.set(pair.data);
    return true;
  } catch {
    return false;
  }
}

/** Shows the form; `notice` (e.g. "This account is disabled.") is said first, in the form's alert line. */
export function showLogin(api: ApiClient, options: LoginOptions, notice?: string): Promise<void> {
  const { allowRegistration } = options;
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
  toggle.hidden = !allowRegistration || !options.passwordLogin;
  byId('login-password-fields').hidden = !options.passwordLogin;
  submit.hidden = !options.passwordLogin;
  for (const input of [email, password]) input.required = options.passwordLogin;
  byId('login-sso-row').hidden = options.singleSignOn === undefined;
  if (options.singleSignOn !== undefined) byId('login-sso').textContent = `Sign in with ${options.singleSignOn}`;
  setMode('login');
  if (notice) error.textContent = notice;
  byId('app-view').hidden = true;
  view.hidden = false;
  (options.passwordLogin ? email : byId('login-sso')).focus();

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
