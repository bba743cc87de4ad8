/**
 * Typed configuration read from the environment.
 *
 * `loadConfig(env)` is pure: it takes a plain record, validates every variable with one zod
 * schema, and throws `ConfigError` naming the first bad variable. `readEnvironment()` merges a
 * `.env` file under the real environment (the real environment always wins).
 */
import { existsSync, readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import path from 'node:path';
import { parseEnv } from 'node:util';
import { z } from 'zod';
import { parseFetchAllowList } from '../mcp/fetch-guard.js';
import { parsePriceTable, type PriceTable } from '../usage/prices.js';

export class ConfigError extends Error {
  override name = this.constructor.name;
  constructor(
    readonly variable: string,
    message: string,
  ) {
    super(`Invalid configuration: ${variable} ${message}`);
  }
}

const bool = (fallback: boolean) =>
  z
    .enum(['true', 'false', '1', '0', 'yes', 'no', 'on', 'off', ''])
    .optional()
    .transform((v) => (v === undefined || v === '' ? fallback : ['true', '1', 'yes', 'on'].includes(v)));

const int = (fallback: number, min: number, max: number) =>
  z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v.trim() === '') return fallback;
      const n = Number(v);
      if (!Number.isInteger(n) || n < min || n > max) {
        ctx.addIssue({ code: 'custom', message: `must be a whole number from ${min} to ${max} (got "${v}")` });
        return z.NEVER;
      }
      return n;
    });

/** The fallback of a variable whose default depends on another one. */
const UNSET = -1;

/**
 * Per-user limits in `AUTH_MODE=jwt` when not configured. In `none` mode the one local user is the
 * operator, and nothing is limited unless configured.
 */
export const DEFAULT_USER_LIMITS = { maxConcurrentTurns: 3, messagesPerMin: 30, writesPerMin: 120 } as const;

const optionalString = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === '' ? undefined : v.trim()));

const url = (protocols: string[]) =>
  optionalString.refine(
    (v) => {
      if (v === undefined) return true;
      try {
        return protocols.includes(new URL(v).protocol);
      } catch {
        return false;
      }
    },
    { message: `must be a URL (${protocols.join(' or ')})` },
  );

const modelWindows = optionalString.transform((v, ctx) => {
  const out: Record<string, number> = {};
  if (v === undefined) return out;
  for (const pair of v.split(',')) {
    const [name, tokens] = pair.split('=').map((s) => s.trim());
    const n = Number(tokens);
    if (!name || !Number.isInteger(n) || n < 256) {
      ctx.addIssue({ code: 'custom', message: `must look like "name=tokens,name=tokens" with tokens ≥ 256 (bad part "${pair}")` });
      return z.NEVER;
    }
    out[name] = n;
  }
  return out;
});

const modelCapabilities = optionalString.transform((v, ctx) => {
  const out: Record<string, 'text' | 'vision'> = {};
  if (v === undefined) return out;
  for (const pair of v.split(',')) {
    const [name, capability] = pair.split('=').map((s) => s.trim());
    if (!name || (capability !== 'text' && capability !== 'vision')) {
      ctx.addIssue({ code: 'custom', message: `must look like "name=text,name=vision" (bad part "${pair}")` });
      return z.NEVER;
    }
    out[name] = capability;
  }
  return out;
});

/** A budget: unset (or empty) is no budget; otherwise a number ≥ 0 (whole tokens, or USD). */
const budget = (kind: 'tokens' | 'usd') =>
  optionalString.transform((v, ctx) => {
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isFinite(n) || n < 0 || (kind === 'tokens' && !Number.isInteger(n))) {
      ctx.addIssue({ code: 'custom', message: `must be ${kind === 'tokens' ? 'a whole number of tokens' : 'an amount in USD'} ≥ 0, or empty for no budget (got "${v}")` });
      return z.NEVER;
    }
    return n;
  });

const prices = optionalString.transform((v, ctx): PriceTable => {
  if (v === undefined) return {};
  try {
    return parsePriceTable(v);
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: (err as Error).message });
    return z.NEVER;
  }
});

const EnvSchema = z.object({
  HOST: optionalString.transform((v) => v ?? '127.0.0.1'),
  PORT: int(8000, 0, 65535),
  DATA_DIR: optionalString.transform((v) => path.resolve(v ?? './data')),
  DATABASE_URL: url(['postgres:', 'postgresql:']),
  DB_POOL_MAX: int(10, 1, 1000),
  DB_STATEMENT_TIMEOUT_MS: int(60_000, 100, 3_600_000),
  DB_STARTUP_ATTEMPTS: int(6, 1, 100),
  LLM_PROVIDER: z.enum(['openai', 'azure', 'offline', 'auto', '']).optional(),
  OPENAI_API_KEY: optionalString,
  OPENAI_BASE_URL: url(['http:', 'https:']),
  OPENAI_API_MODE: z.enum(['responses', 'chat_completions', 'auto', '']).optional(),
  LLM_ADAPTER: z.enum(['native', 'sdk', '']).optional().transform((v) => (v ? v : 'native')),
  AZURE_OPENAI_ENDPOINT: url(['http:', 'https:']),
  AZURE_OPENAI_API_KEY: optionalString,
  AZURE_OPENAI_API_VERSION: optionalString,
  DEFAULT_MODEL: optionalString,
  MODELS: optionalString,
  MODEL_CONTEXT_WINDOWS: modelWindows,
  MODEL_CAPABILITIES: modelCapabilities,
  IMAGE_MAX_EDGE: int(2048, 64, 16_384),
  SUMMARY_RETRY_BACKOFF_MS: int(1000, 0, 60_000),
  // Usage accounting: prices, and the default per-user budgets (UTC days and months).
  MODEL_PRICES: prices,
  QUOTA_TOKENS_PER_DAY: budget('tokens'),
  QUOTA_TOKENS_PER_MONTH: budget('tokens'),
  QUOTA_COST_PER_DAY: budget('usd'),
  QUOTA_COST_PER_MONTH: budget('usd'),
  AUTH_MODE: z.enum(['none', 'jwt', '']).optional().transform((v) => (v ? v : 'none')),
  JWT_SECRET: optionalString,
  ALLOW_REGISTRATION: bool(false),
  AUTH_RATE_LIMIT_PER_MIN: int(10, 1, 1_000_000),
  // Per-user fair shares (0 = off); unset → the defaults below for AUTH_MODE=jwt, off in none mode.
  USER_MAX_CONCURRENT_TURNS: int(UNSET, 0, 10_000),
  USER_MESSAGES_PER_MIN: int(UNSET, 0, 1_000_000),
  USER_WRITES_PER_MIN: int(UNSET, 0, 1_000_000),
  ALLOW_UNAUTHENTICATED_REMOTE: bool(false),
  WS_MAX_CONNECTIONS: int(1000, 1, 1_000_000),
  WS_MAX_CONNECTIONS_PER_SESSION: int(3, 1, 1000),
  WS_MAX_CONNECTIONS_PER_USER: int(UNSET, 1, 1_000_000),
  WS_IDLE_TIMEOUT_S: int(600, 1, 86_400),
  WS_PING_INTERVAL_S: int(30, 1, 3600),
  MCP_CONFIG: optionalString,
  MCP_POOL_SIZE: int(3, 1, 64),
  MCP_ACQUIRE_TIMEOUT_MS: int(30_000, 1, 600_000),
  MAX_UPLOAD_BYTES: int(52_428_800, 1, 10 * 1024 ** 3),
  // Export, import and read-only share links (src/transfer, src/shares).
  IMPORT_MAX_BYTES: int(20 * 1024 * 1024, 1024, 1024 ** 3),
  ALLOW_SHARING: bool(true),
  EMBEDDING_MODEL: optionalString,
  DOCUMENT_CONVERSION_TIMEOUT_S: int(60, 1, 3600),
  DOCUMENT_MAX_PAGES: int(2000, 1, 100_000),
  DOCUMENT_MAX_CHARS: int(5_000_000, 1000, 100_000_000),
  CODE_INTERPRETER: z.enum(['auto', 'on', 'off', '']).optional().transform((v) => (v ? v : 'auto')),
  CODE_INTERPRETER_TIMEOUT_S: int(60, 1, 3600),
  CODE_INTERPRETER_MEMORY_MB: int(512, 32, 65_536),
  CODE_INTERPRETER_MAX_CONCURRENT: int(2, 1, 256),
  CODE_INTERPRETER_MAX_PER_USER: int(UNSET, 1, 256),
  /** src/approvals: `ask` = file-changing tools, code and MCP tools wait for a person; `auto` = none do unless an MCP entry says so. */
  TOOL_APPROVAL: z.enum(['ask', 'auto', '']).optional().transform((v) => (v ? v : 'ask')),
  TOOL_APPROVAL_TIMEOUT_S: int(3600, 1, 7 * 24 * 3600),
  LOG_LEVEL: z
    .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent', ''])
    .optional()
    .transform((v) => (v ? v : 'info')),
  LOG_FORMAT: z.enum(['json', 'pretty', '']).optional().transform((v) => (v ? v : 'json')),
  DEBUG: bool(false),
  METRICS_TOKEN: optionalString.refine((v) => v === undefined || v.length >= 16, { message: 'must be at least 16 characters' }),
  // The server's external base URL (single sign-on redirects, the Host/Origin check).
  PUBLIC_URL: url(['http:', 'https:']),
  // Single sign-on and password login.
  PASSWORD_LOGIN: bool(true),
  OIDC_ISSUER: url(['http:', 'https:']),
  OIDC_CLIENT_ID: optionalString,
  OIDC_CLIENT_SECRET: optionalString,
  OIDC_SCOPES: optionalString.transform((v) => v ?? 'openid email profile'),
  OIDC_ADMIN_GROUPS: optionalString,
  OIDC_NAME: optionalString,
  // Network exposure: the Host/Origin check (src/http/host-check.ts) and the fetch tool's allow-list.
  ALLOWED_HOSTS: optionalString,
  FETCH_ALLOWED_HOSTS: optionalString.superRefine((v, ctx) => {
    try {
      parseFetchAllowList(v);
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: `must list host names or CIDR ranges, comma-separated (${(err as Error).message})` });
    }
  }),
  // Full-text search: a text search configuration name; that it exists is checked against the database at startup.
  SEARCH_LANGUAGE: optionalString
    .transform((v) => (v ?? 'english').toLowerCase())
    .refine((v) => /^[a-z_][a-z0-9_]{0,62}$/.test(v), { message: 'must be the name of a PostgreSQL text search configuration, such as english, german or simple' }),
});

/** OpenID Connect sign-in (`OIDC_*`); present only when `OIDC_ISSUER` is set. */
export interface OidcConfig {
  issuer: string;
  clientId: string;
  clientSecret: string | undefined;
  scopes: string;
  adminGroups: string[];
  /** Shown on the sign-in button ("Sign in with …"). */
  name: string | undefined;
  /** `${PUBLIC_URL}/api/v1/auth/oidc/callback` */
  redirectUri: string;
}

export type LlmProviderName = 'openai' | 'azure' | 'offline';

/** Per-user budgets; undefined is no budget. Tokens are input + output as the provider counts them. */
export interface Budgets {
  tokensPerDay: number | undefined;
  tokensPerMonth: number | undefined;
  /** USD. */
  costPerDay: number | undefined;
  /** USD. */
  costPerMonth: number | undefined;
}

export interface Config {
  host: string;
  port: number;
  dataDir: string;
  databaseUrl: string | undefined;
  dbPoolMax: number;
  dbStatementTimeoutMs: number;
  dbStartupAttempts: number;
  llm: {
    provider: LlmProviderName;
    apiMode: 'responses' | 'chat_completions';
    /** Who speaks the wire format: Pulp's own adapters (`native`) or the Agents SDK's (`sdk`). */
    adapter: 'native' | 'sdk';
    openaiApiKey: string | undefined;
    openaiBaseUrl: string | undefined;
    azureEndpoint: string | undefined;
    azureApiKey: string | undefined;
    azureApiVersion: string;
    defaultModel: string;
    models: string[];
    contextWindowOverrides: Record<string, number>;
    /** `MODEL_CAPABILITIES`: models that read text only or also see images (src/llm/model-capabilities.ts). */
    capabilities: Record<string, 'text' | 'vision'>;
    /** `IMAGE_MAX_EDGE`: images attached to messages are shrunk to this longer edge in pixels. */
    imageMaxEdge: number;
    /** The wait before the first retry of a failed summary; it doubles for the second. */
    summaryRetryBackoffMs: number;
  };
  auth: {
    mode: 'none' | 'jwt';
    jwtSecret: string | undefined;
    /** Password registration after the first account (the first account may always register). */
    allowRegistration: boolean;
    allowUnauthenticatedRemote: boolean;
    rateLimitPerMinute: number;
    /** `PASSWORD_LOGIN`: false refuses password login and registration (single sign-on only). */
    passwordLogin: boolean;
    oidc: OidcConfig | undefined;
  };
  /** The external base URL of the server, without a trailing slash. */
  publicUrl: string | undefined;
  usage: {
    /** `MODEL_PRICES`: USD per million tokens by model; empty when unset. */
    prices: PriceTable;
    /** The `QUOTA_*` defaults; an administrator overrides them per user. */
    budgets: Budgets;
  };
  ws: {
    maxConnections: number;
    maxConnectionsPerSession: number;
    /** One user's sockets on this server, across all their sessions. */
    maxConnectionsPerUser: number;
    idleTimeoutS: number;
    pingIntervalS: number;
  };
  mcp: { configPath: string | undefined; poolSize: number; acquireTimeoutMs: number };
  /** Per-user fair shares; 0 is off (src/limits). */
  userLimits: { maxConcurrentTurns: number; messagesPerMin: number; writesPerMin: number };
  maxUploadBytes: number;
  /** `IMPORT_MAX_BYTES`: the largest file `POST /sessions/import` reads. */
  importMaxBytes: number;
  /** `ALLOW_SHARING`: whether read-only share links can be made and opened. */
  allowSharing: boolean;
  /** Uploaded documents: conversion limits and the optional embeddings model (see src/documents). */
  documents: { embeddingModel: string | undefined; conversionTimeoutMs: number; maxPages: number; maxChars: number };
  codeInterpreter: {
    mode: 'auto' | 'on' | 'off';
    timeoutS: number;
    memoryMb: number;
    /** Sandboxes running at once on this server, and how many of them one user may hold. */
    maxConcurrent: number;
    maxConcurrentPerUser: number;
  };
  /** Tool approval (src/approvals): the operator's mode and how long a call waits for a person. */
  toolApproval: { mode: 'ask' | 'auto'; timeoutS: number };
  log: { level: string; format: 'json' | 'pretty' };
  debug: boolean;
  /** `METRICS_TOKEN`: the bearer token `/metrics` requires; undefined leaves it open. */
  metricsToken: string | undefined;
  network: {
    /** Extra accepted Host names (`*` turns the Host check off). */
    allowedHosts: string[];
    /** `FETCH_ALLOWED_HOSTS` as given, for the fetch server process. */
    fetchAllowedHosts: string | undefined;
  };
  /** `SEARCH_LANGUAGE`: the text search configuration of full-text search (src/search). */
  search: { language: string };
}

const DEFAULT_MODELS: Record<LlmProviderName, string[]> = {
  openai: ['gpt-4o-mini', 'gpt-4o', 'gpt-4.1', 'gpt-4.1-mini', 'gpt-5', 'gpt-5-mini', 'o4-mini'],
  azure: ['gpt-4o-mini', 'gpt-4o'],
  offline: ['offline'],
};

function isLoopback(host: string): boolean {
  if (host === 'localhost' || host === '::1') return true;
  return isIP(host) === 4 && host.startsWith('127.');
}

/** Validates `env` and returns the typed configuration; throws `ConfigError` on the first bad variable. */
export function loadConfig(env: Record<string, string | undefined>): Config {
  const parsed = EnvSchema.safeParse(env);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const variable = String(issue?.path[0] ?? 'environment');
    const raw = env[variable];
    const message =
      issue?.code === 'invalid_value' && 'values' in issue
        ? `must be one of ${(issue.values as unknown[]).filter((v) => v !== '').join(', ')} (got "${raw}")`
        : (issue?.message ?? 'is invalid');
    throw new ConfigError(variable, message);
  }
  const e = parsed.data;

  const requested = e.LLM_PROVIDER && e.LLM_PROVIDER !== 'auto' ? e.LLM_PROVIDER : undefined;
  const provider: LlmProviderName =
    requested ??
    (e.AZURE_OPENAI_ENDPOINT ? 'azure' : e.OPENAI_API_KEY || e.OPENAI_BASE_URL ? 'openai' : 'offline');
  if (provider === 'azure' && !e.AZURE_OPENAI_ENDPOINT) {
    throw new ConfigError('AZURE_OPENAI_ENDPOINT', 'is required when LLM_PROVIDER=azure');
  }
  if (provider === 'openai' && !e.OPENAI_API_KEY && !e.OPENAI_BASE_URL) {
    throw new ConfigError('OPENAI_API_KEY', 'is required when LLM_PROVIDER=openai (or set OPENAI_BASE_URL)');
  }
  const apiMode =
    e.OPENAI_API_MODE && e.OPENAI_API_MODE !== 'auto'
      ? e.OPENAI_API_MODE
      : provider === 'openai' && e.OPENAI_BASE_URL
        ? 'chat_completions'
        : 'responses';
  const defaultModel = e.DEFAULT_MODEL ?? (provider === 'offline' ? 'offline' : 'gpt-4o-mini');
  const listed = e.MODELS ? e.MODELS.split(',').map((m) => m.trim()).filter(Boolean) : DEFAULT_MODELS[provider];
  const models = listed.includes(defaultModel) ? listed : [defaultModel, ...listed];

  if (e.AUTH_MODE === 'jwt' && (!e.JWT_SECRET || e.JWT_SECRET.length < 32)) {
    throw new ConfigError('JWT_SECRET', 'must be set to at least 32 characters when AUTH_MODE=jwt');
  }
  if (e.AUTH_MODE === 'none' && !isLoopback(e.HOST) && !e.ALLOW_UNAUTHENTICATED_REMOTE) {
    throw new ConfigError(
      'HOST',
      `is not a loopback address (${e.HOST}) while AUTH_MODE=none; use AUTH_MODE=jwt or set ALLOW_UNAUTHENTICATED_REMOTE=true`,
    );
  }

  // Fair shares between users: in `AUTH_MODE=none` the one local user is the operator and may use
  // every socket and sandbox slot unless told otherwise.
  const share = (value: number, jwtDefault: number, whole: number) => (value !== UNSET ? value : e.AUTH_MODE === 'jwt' ? Math.min(jwtDefault, whole) : whole);
  const sandboxPerUser = share(e.CODE_INTERPRETER_MAX_PER_USER, 1, e.CODE_INTERPRETER_MAX_CONCURRENT);
  if (sandboxPerUser > e.CODE_INTERPRETER_MAX_CONCURRENT) {
    throw new ConfigError('CODE_INTERPRETER_MAX_PER_USER', `cannot be more than CODE_INTERPRETER_MAX_CONCURRENT (${e.CODE_INTERPRETER_MAX_CONCURRENT})`);
  }

  const perUser = (value: number, jwtDefault: number) => (value !== UNSET ? value : e.AUTH_MODE === 'jwt' ? jwtDefault : 0);
  const publicUrl = e.PUBLIC_URL?.replace(/\/+$/, '');
  const oidc = oidcConfig(e, publicUrl);

  return {
    host: e.HOST,
    port: e.PORT,
    dataDir: e.DATA_DIR,
    databaseUrl: e.DATABASE_URL,
    dbPoolMax: e.DB_POOL_MAX,
    dbStatementTimeoutMs: e.DB_STATEMENT_TIMEOUT_MS,
    dbStartupAttempts: e.DB_STARTUP_ATTEMPTS,
    llm: {
      provider,
      apiMode,
      adapter: e.LLM_ADAPTER,
      openaiApiKey: e.OPENAI_API_KEY,
      openaiBaseUrl: e.OPENAI_BASE_URL,
      azureEndpoint: e.AZURE_OPENAI_ENDPOINT,
      azureApiKey: e.AZURE_OPENAI_API_KEY,
      azureApiVersion: e.AZURE_OPENAI_API_VERSION ?? '2025-03-01-preview',
      defaultModel,
      models,
      contextWindowOverrides: e.MODEL_CONTEXT_WINDOWS,
      capabilities: e.MODEL_CAPABILITIES,
      imageMaxEdge: e.IMAGE_MAX_EDGE,
      summaryRetryBackoffMs: e.SUMMARY_RETRY_BACKOFF_MS,
    },
    auth: {
      mode: e.AUTH_MODE,
      jwtSecret: e.JWT_SECRET,
      allowRegistration: e.ALLOW_REGISTRATION,
      allowUnauthenticatedRemote: e.ALLOW_UNAUTHENTICATED_REMOTE,
      rateLimitPerMinute: e.AUTH_RATE_LIMIT_PER_MIN,
      passwordLogin: e.PASSWORD_LOGIN,
      oidc,
    },
    publicUrl,
    usage: {
      prices: e.MODEL_PRICES,
      budgets: {
        tokensPerDay: e.QUOTA_TOKENS_PER_DAY,
        tokensPerMonth: e.QUOTA_TOKENS_PER_MONTH,
        costPerDay: e.QUOTA_COST_PER_DAY,
        costPerMonth: e.QUOTA_COST_PER_MONTH,
      },
    },
    ws: {
      maxConnections: e.WS_MAX_CONNECTIONS,
      maxConnectionsPerSession: e.WS_MAX_CONNECTIONS_PER_SESSION,
      maxConnectionsPerUser: share(e.WS_MAX_CONNECTIONS_PER_USER, 20, e.WS_MAX_CONNECTIONS),
      idleTimeoutS: e.WS_IDLE_TIMEOUT_S,
      pingIntervalS: e.WS_PING_INTERVAL_S,
    },
    mcp: {
      configPath: e.MCP_CONFIG ?? (existsSync(path.join(e.DATA_DIR, 'mcp.json')) ? path.join(e.DATA_DIR, 'mcp.json') : undefined),
      poolSize: e.MCP_POOL_SIZE,
      acquireTimeoutMs: e.MCP_ACQUIRE_TIMEOUT_MS,
    },
    userLimits: {
      maxConcurrentTurns: perUser(e.USER_MAX_CONCURRENT_TURNS, DEFAULT_USER_LIMITS.maxConcurrentTurns),
      messagesPerMin: perUser(e.USER_MESSAGES_PER_MIN, DEFAULT_USER_LIMITS.messagesPerMin),
      writesPerMin: perUser(e.USER_WRITES_PER_MIN, DEFAULT_USER_LIMITS.writesPerMin),
    },
    maxUploadBytes: e.MAX_UPLOAD_BYTES,
    importMaxBytes: e.IMPORT_MAX_BYTES,
    allowSharing: e.ALLOW_SHARING,
    documents: {
      embeddingModel: e.EMBEDDING_MODEL,
      conversionTimeoutMs: e.DOCUMENT_CONVERSION_TIMEOUT_S * 1000,
      maxPages: e.DOCUMENT_MAX_PAGES,
      maxChars: e.DOCUMENT_MAX_CHARS,
    },
    codeInterpreter: {
      mode: e.CODE_INTERPRETER,
      timeoutS: e.CODE_INTERPRETER_TIMEOUT_S,
      memoryMb: e.CODE_INTERPRETER_MEMORY_MB,
      maxConcurrent: e.CODE_INTERPRETER_MAX_CONCURRENT,
      maxConcurrentPerUser: sandboxPerUser,
    },
    toolApproval: { mode: e.TOOL_APPROVAL, timeoutS: e.TOOL_APPROVAL_TIMEOUT_S },
    log: { level: e.LOG_LEVEL, format: e.LOG_FORMAT },
    debug: e.DEBUG,
    metricsToken: e.METRICS_TOKEN,
    network: {
      allowedHosts: (e.ALLOWED_HOSTS ?? '').split(',').map((h) => h.trim()).filter(Boolean),
      fetchAllowedHosts: e.FETCH_ALLOWED_HOSTS,
    },
    search: { language: e.SEARCH_LANGUAGE },
  };
}

function oidcConfig(e: z.infer<typeof EnvSchema>, publicUrl: string | undefined): OidcConfig | undefined {
  if (!e.OIDC_ISSUER) {
    if (!e.PASSWORD_LOGIN) throw new ConfigError('PASSWORD_LOGIN', 'can only be false when OIDC_ISSUER is set (nobody could sign in)');
    return undefined;
  }
  if (e.AUTH_MODE !== 'jwt') throw new ConfigError('OIDC_ISSUER', 'needs AUTH_MODE=jwt');
  if (!e.OIDC_CLIENT_ID) throw new ConfigError('OIDC_CLIENT_ID', 'is required when OIDC_ISSUER is set');
  if (!publicUrl) throw new ConfigError('PUBLIC_URL', 'is required when OIDC_ISSUER is set (it makes the redirect URI)');
  const issuer = new URL(e.OIDC_ISSUER);
  if (issuer.protocol === 'http:' && !isLoopback(issuer.hostname.replace(/^\[|\]$/g, ''))) {
    throw new ConfigError('OIDC_ISSUER', 'must use https (http is accepted for a loopback address only)');
  }
  if (!e.OIDC_SCOPES.split(/\s+/).includes('openid')) throw new ConfigError('OIDC_SCOPES', 'must include "openid"');
  return {
    issuer: e.OIDC_ISSUER,
    clientId: e.OIDC_CLIENT_ID,
    clientSecret: e.OIDC_CLIENT_SECRET,
    scopes: e.OIDC_SCOPES,
    adminGroups: (e.OIDC_ADMIN_GROUPS ?? '').split(',').map((g) => g.trim()).filter(Boolean),
    name: e.OIDC_NAME,
    redirectUri: `${publicUrl}/api/v1/auth/oidc/callback`,
  };
}

/** The process environment over a `.env` file in `cwd` (the real environment always wins). */
export function readEnvironment(cwd = process.cwd(), env: NodeJS.ProcessEnv = process.env): Record<string, string | undefined> {
  const file = path.join(cwd, '.env');
  const fromFile = existsSync(file) ? parseEnv(readFileSync(file, 'utf8')) : {};
  return { ...fromFile, ...env };
}
