/**
 * Entry of the web client: reads `/config`, logs in when the server runs in jwt mode, then starts
 * the chat screen. A failure here is shown on the page with a retry, never as a blank screen.
 */
import { ApiClient, describeError } from './api.js';
import { ChatApp } from './chat-app.js';
import { byId } from './dom.js';
import { loginOptions, showLogin, takeSignOnTokens } from './login-view.js';
import { applyTheme, loadTheme } from './prefs.js';
import { PublicConfigSchema, type PublicConfig } from './protocol.js';

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
  const enter = async () => {
    byId('app-view').hidden = false;
    try {
      await app.start();
    } catch (err) {
      app.showError(`Could not load your chats: ${describeError(err)}`);
    }
  };
  const relogin = async () => {
    app.stopAll();
    await showLogin(api, loginOptions(config));
    await enter();
  };
  let loggingIn = false;
  api.onLoggedOut = () => {
    if (loggingIn) return;
    loggingIn = true;
    void relogin().finally(() => {
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
