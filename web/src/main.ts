/**
 * Entry of the web client: reads `/config`, logs in when the server runs in jwt mode, then starts
 * the chat screen. A failure here is shown on the page with a retry, never as a blank screen.
 * In jwt mode it also reads who is signed in (`/auth/me`): "API keys" for everyone, and
 * "Administration" for administrators. "Usage" is there in every mode.
 */
import { AdminPanel } from './admin-view.js';
import { ACCOUNT_DISABLED_MESSAGE, ApiClient, describeError } from './api.js';
import { ApiKeysPanel } from './api-keys-view.js';
import { ChatApp } from './chat-app.js';
import { byId } from './dom.js';
import { loginOptions, showLogin, takeSignOnTokens } from './login-view.js';
import { applyTheme, loadTheme } from './prefs.js';
import { MeSchema, PublicConfigSchema, type Me, type PublicConfig } from './protocol.js';
import { TransferPanel } from './transfer-view.js';
import { UsagePanel } from './usage-view.js';

applyTheme(loadTheme(), false);

async function boot(): Promise<void> {
  const api = new ApiClient();
  let config: PublicConfig;
  try {
    config = await api.json('GET', '/config', PublicConfigSchema);
  } catch (err) {
    return fatal(`Cannot load Pulp's configuration: ${describeError(err)}`);
  }
  byId('version').textContent = `v${config.version}`;
  api.jwt = config.auth_mode === 'jwt';
  byId('logout-button').hidden = !api.jwt;
  if (api.jwt) takeSignOnTokens(api);
  if (api.jwt && !api.tokens.get()) await showLogin(api, loginOptions(config));

  const app = new ChatApp(api, config);
  const adminButton = byId('admin-button');
  const keysButton = byId('api-keys-button');
  let me: Me | null = null;
  /** Reads who is signed in; the admin entry shows only for administrators. */
  const loadMe = async () => {
    me = null;
    adminButton.hidden = true;
    if (!api.jwt) return;
    try {
      me = await api.json('GET', '/auth/me', MeSchema);
      adminButton.hidden = me.role !== 'admin';
    } catch (err) {
      if (api.tokens.get()) app.showError(`Could not read your account: ${describeError(err)}`);
    }
  };
  const keys = api.jwt ? new ApiKeysPanel(api) : null;
  const admin = api.jwt
    ? new AdminPanel(api, {
        me: () => me,
        selfChanged: () =>
          void loadMe().then(() => {
            if (me?.role !== 'admin') admin?.close();
          }),
      })
    : null;
  const usage = new UsagePanel(api);
  const transfer = new TransferPanel(api, app, config.sharing !== false);
  byId('usage-button').addEventListener('click', () => void usage.open());
  keysButton.hidden = !keys;
  keysButton.addEventListener('click', () => void keys?.open());
  adminButton.addEventListener('click', () => void admin?.open());

  const enter = async () => {
    byId('app-view').hidden = false;
    void loadMe();
    try {
      await app.start();
    } catch (err) {
      app.showError(`Could not load your chats: ${describeError(err)}`);
    }
  };
  const relogin = async (reason?: 'disabled') => {
    app.stopAll();
    app.clearError();
    keys?.close();
    admin?.close();
    usage.close();
    transfer.close();
    for (const dialog of document.querySelectorAll('dialog')) if (dialog.open) dialog.close();
    me = null;
    adminButton.hidden = true;
    await showLogin(api, loginOptions(config), reason === 'disabled' ? ACCOUNT_DISABLED_MESSAGE : undefined);
    await enter();
  };
  let loggingIn = false;
  api.onLoggedOut = (reason) => {
    if (loggingIn) return;
    loggingIn = true;
    void relogin(reason).finally(() => {
      loggingIn = false;
    });
  };
  byId('logout-button').addEventListener('click', () => {
    void api.logout().then(() => api.onLoggedOut());
  });
  await enter();
}

function fatal(message: string): void {
  byId('boot-error-text').textContent = message;
  byId('boot-error').hidden = false;
  byId('app-view').hidden = true;
}

byId('boot-retry').addEventListener('click', () => location.reload());
void boot();
