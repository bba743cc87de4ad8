import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, readEnvironment } from '../../src/config/config.js';

function configError(env: Record<string, string>): ConfigError {
  try {
    loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('configuration', () => {
  it('asks before dangerous tool calls by default and for an hour; TOOL_APPROVAL takes only ask or auto', () => {
    expect(loadConfig({}).toolApproval).toEqual({ mode: 'ask', timeoutS: 3600 });
    expect(loadConfig({ TOOL_APPROVAL: 'auto', TOOL_APPROVAL_TIMEOUT_S: '30' }).toolApproval).toEqual({ mode: 'auto', timeoutS: 30 });
    expect(configError({ TOOL_APPROVAL: 'never' }).message).toContain('TOOL_APPROVAL');
    expect(configError({ TOOL_APPROVAL_TIMEOUT_S: '0' }).message).toContain('TOOL_APPROVAL_TIMEOUT_S');
  });

  it('shares sockets and sandbox slots between users in jwt mode, by default and as set', () => {
    const jwt = { AUTH_MODE: 'jwt', JWT_SECRET: 'x'.repeat(32) };
    expect(loadConfig(jwt).ws.maxConnectionsPerUser).toBe(20);
    expect(loadConfig(jwt).codeInterpreter.maxConcurrentPerUser).toBe(1);
    expect(loadConfig({ ...jwt, WS_MAX_CONNECTIONS: '5' }).ws.maxConnectionsPerUser).toBe(5);
    expect(loadConfig({ WS_MAX_CONNECTIONS_PER_USER: '4', CODE_INTERPRETER_MAX_PER_USER: '1' })).toMatchObject({
      ws: { maxConnectionsPerUser: 4 },
      codeInterpreter: { maxConcurrentPerUser: 1 },
    });
  });

  it('starts with no configuration on the offline model, the embedded database and no auth', () => {
    const c = loadConfig({});
    expect(c.host).toBe('127.0.0.1');
    expect(c.port).toBe(8000);
    expect(c.databaseUrl).toBeUndefined();
    expect(c.llm.provider).toBe('offline');
    expect(c.llm.defaultModel).toBe('offline');
    expect(c.auth.mode).toBe('none');
    // The one local user of AUTH_MODE=none may use every socket and sandbox slot.
    expect(c.ws).toEqual({ maxConnections: 1000, maxConnectionsPerSession: 3, maxConnectionsPerUser: 1000, idleTimeoutS: 600, pingIntervalS: 30 });
    expect(c.codeInterpreter).toEqual({ mode: 'auto', timeoutS: 60, memoryMb: 512, maxConcurrent: 2, maxConcurrentPerUser: 2 });
    expect(c.maxUploadBytes).toBe(52_428_800);
    expect(c.dataDir).toBe(path.resolve('./data'));
    expect(c.llm.summaryRetryBackoffMs).toBe(1000);
    expect(loadConfig({ SUMMARY_RETRY_BACKOFF_MS: '0' }).llm.summaryRetryBackoffMs).toBe(0);
  });

  it.each([
    [{ PORT: 'eighty' }, 'PORT'],
    [{ PORT: '70000' }, 'PORT'],
    [{ DB_POOL_MAX: '0' }, 'DB_POOL_MAX'],
    [{ DATABASE_URL: 'mysql://x' }, 'DATABASE_URL'],
    [{ LLM_PROVIDER: 'anthropic' }, 'LLM_PROVIDER'],
    [{ AUTH_MODE: 'basic' }, 'AUTH_MODE'],
    [{ AUTH_MODE: 'jwt', JWT_SECRET: 'short' }, 'JWT_SECRET'],
    [{ AUTH_MODE: 'jwt' }, 'JWT_SECRET'],
    [{ MODEL_CONTEXT_WINDOWS: 'gpt-4o=abc' }, 'MODEL_CONTEXT_WINDOWS'],
    [{ ALLOW_REGISTRATION: 'maybe' }, 'ALLOW_REGISTRATION'],
    [{ PASSWORD_LOGIN: 'false' }, 'PASSWORD_LOGIN'],
    [{ OIDC_ISSUER: 'https://id.example.com' }, 'OIDC_ISSUER'],
    [{ AUTH_MODE: 'jwt', JWT_SECRET: 'x'.repeat(32), OIDC_ISSUER: 'https://id.example.com' }, 'OIDC_CLIENT_ID'],
    [{ AUTH_MODE: 'jwt', JWT_SECRET: 'x'.repeat(32), OIDC_ISSUER: 'https://id.example.com', OIDC_CLIENT_ID: 'c' }, 'PUBLIC_URL'],
    [{ AUTH_MODE: 'jwt', JWT_SECRET: 'x'.repeat(32), OIDC_ISSUER: 'http://id.example.com', OIDC_CLIENT_ID: 'c', PUBLIC_URL: 'https://p.example' }, 'OIDC_ISSUER'],
    [{ AUTH_MODE: 'jwt', JWT_SECRET: 'x'.repeat(32), OIDC_ISSUER: 'https://id.example.com', OIDC_CLIENT_ID: 'c', PUBLIC_URL: 'https://p.example', OIDC_SCOPES: 'email' }, 'OIDC_SCOPES'],
    [{ PUBLIC_URL: 'ftp://x' }, 'PUBLIC_URL'],
    [{ LOG_FORMAT: 'xml' }, 'LOG_FORMAT'],
    [{ LLM_PROVIDER: 'azure' }, 'AZURE_OPENAI_ENDPOINT'],
    [{ OPENAI_BASE_URL: 'not a url' }, 'OPENAI_BASE_URL'],
    [{ SUMMARY_RETRY_BACKOFF_MS: '60001' }, 'SUMMARY_RETRY_BACKOFF_MS'],
    [{ CODE_INTERPRETER_MAX_CONCURRENT: '2', CODE_INTERPRETER_MAX_PER_USER: '3' }, 'CODE_INTERPRETER_MAX_PER_USER'],
    [{ WS_MAX_CONNECTIONS_PER_USER: '0' }, 'WS_MAX_CONNECTIONS_PER_USER'],
  ])('refuses %o with one line naming %s', (env, variable) => {
    const err = configError(env);
    expect(err.variable).toBe(variable);
    expect(err.message).toContain(variable);
    expect(err.message).not.toContain('\n');
  });

  it('refuses a non-loopback HOST without auth unless explicitly allowed', () => {
    expect(configError({ HOST: '0.0.0.0' }).variable).toBe('HOST');
    expect(loadConfig({ HOST: '0.0.0.0', ALLOW_UNAUTHENTICATED_REMOTE: 'true' }).host).toBe('0.0.0.0');
    expect(loadConfig({ HOST: '0.0.0.0', AUTH_MODE: 'jwt', JWT_SECRET: 'x'.repeat(32) }).auth.mode).toBe('jwt');
    const sso = loadConfig({
      AUTH_MODE: 'jwt',
      JWT_SECRET: 'x'.repeat(32),
      OIDC_ISSUER: 'https://id.example.com',
      OIDC_CLIENT_ID: 'pulp',
      OIDC_ADMIN_GROUPS: ' admins , ops ,',
      PUBLIC_URL: 'https://chat.example.com/',
    });
    expect(sso.auth).toMatchObject({ allowRegistration: false, passwordLogin: true });
    expect(sso.auth.oidc).toMatchObject({ scopes: 'openid email profile', adminGroups: ['admins', 'ops'], redirectUri: 'https://chat.example.com/api/v1/auth/oidc/callback' });
    expect(loadConfig({ HOST: 'localhost' }).host).toBe('localhost');
  });

  it('picks the provider from what is configured', () => {
    expect(loadConfig({ AZURE_OPENAI_ENDPOINT: 'https://x.openai.azure.com', OPENAI_API_KEY: 'k' }).llm.provider).toBe('azure');
    const openai = loadConfig({ OPENAI_API_KEY: 'k' });
    expect(openai.llm).toMatchObject({ provider: 'openai', apiMode: 'responses', defaultModel: 'gpt-4o-mini' });
    const local = loadConfig({ OPENAI_BASE_URL: 'http://127.0.0.1:11434/v1' });
    expect(local.llm).toMatchObject({ provider: 'openai', apiMode: 'chat_completions' });
    expect(loadConfig({ OPENAI_BASE_URL: 'http://h/v1', OPENAI_API_MODE: 'responses' }).llm.apiMode).toBe('responses');
  });

  it('speaks to the model with the native adapters unless LLM_ADAPTER=sdk', () => {
    expect(loadConfig({ OPENAI_API_KEY: 'k' }).llm.adapter).toBe('native');
    expect(loadConfig({ OPENAI_API_KEY: 'k', LLM_ADAPTER: '' }).llm.adapter).toBe('native');
    expect(loadConfig({ OPENAI_API_KEY: 'k', LLM_ADAPTER: 'sdk' }).llm.adapter).toBe('sdk');
    const bad = (() => {
      try {
        return loadConfig({ OPENAI_API_KEY: 'k', LLM_ADAPTER: 'fast' });
      } catch (err) {
        return err;
      }
    })();
    expect(bad).toBeInstanceOf(ConfigError);
    expect(bad).toMatchObject({ variable: 'LLM_ADAPTER' });
    expect((bad as Error).message).toMatch(/LLM_ADAPTER must be one of native, sdk \(got "fast"\)/);
  });

  it('offers the default model first among the configured models and parses window overrides', () => {
    const c = loadConfig({ OPENAI_API_KEY: 'k', MODELS: 'a, b', DEFAULT_MODEL: 'c', MODEL_CONTEXT_WINDOWS: 'a=1000, c=2048' });
    expect(c.llm.models).toEqual(['c', 'a', 'b']);
    expect(c.llm.contextWindowOverrides).toEqual({ a: 1000, c: 2048 });
  });

  it('reads .env but the real environment wins', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'pulp-env-'));
    writeFileSync(path.join(dir, '.env'), 'PORT=9001\nLOG_LEVEL=debug\n');
    const env = readEnvironment(dir, { PORT: '9002' });
    expect(env.PORT).toBe('9002');
    expect(env.LOG_LEVEL).toBe('debug');
    expect(readEnvironment(path.join(dir, 'none'), {})).toEqual({});
  });
});
