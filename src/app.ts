/**
 * The composition root: builds every capability from the configuration and wires them into one
 * Fastify server. It only wires; behaviour lives in the capability folders, and the larger
 * pieces of wiring (a chat's tools, the document and chat routes, the sandbox) in `src/wiring/`.
 */
import type { Logger } from 'pino';
import { ApprovalService } from './approvals/approval-service.js';
import { registerApprovalRoutes } from './approvals/routes.js';
import { AuthService } from './auth/auth-service.js';
import { OidcLogin } from './auth/oidc.js';
import { registerOidcRoutes } from './auth/oidc-routes.js';
import { registerAuthRoutes } from './auth/routes.js';
import type { Config } from './config/config.js';
import { registerConfigRoute } from './config/routes.js';
import { contextWindowFor } from './context/model-windows.js';
import type { Database } from './db/database.js';
import { migrate } from './db/migrate.js';
import { defaultHealthSources, type HealthSources } from './health/health-sources.js';
import { registerHealthRoutes } from './health/routes.js';
import { createHttpServer, type PulpFastify } from './http/server.js';
import { sessionInstructions } from './chat/instructions.js';
import { CLOSE_BAD_TOKEN, registerChatSocket } from './chat/ws-routes.js';
import { createCluster } from './cluster/cluster.js';
import { loadEncoding } from './context/encodings.js';
import { countItems, encodingFor } from './context/tokens.js';
import { createContextHooks, createSummarizer } from './context/turn-hooks.js';
import { createErrorClassifier, createModelProvider, describeLlm } from './llm/index.js';
import { findOwnedSession } from './sessions/session-store.js';
import { McpManager } from './mcp/manager.js';
import { createMetrics, type Metrics } from './observability/metrics.js';
import { UsageMeter } from './usage/usage-meter.js';
import { ensureSearchLanguage } from './search/language.js';
import { VERSION } from './version.js';
import { authAttemptLimit } from './limits/auth-limit.js';
import { RateLimitStore } from './limits/rate-limits.js';
import { UserLimits } from './limits/user-limits.js';
import { registerWriteLimit } from './limits/write-limit.js';
import { openTurnSessionsOf } from './cluster/user-turns.js';
import { registerWebClient } from './web/web-client.js';
import { Documents, embedderFor } from './documents/documents.js';
import { createWorkspace } from './workspace/workspace.js';
import { registerChatRoutes } from './wiring/chat-routes.js';
import { chatTools } from './wiring/chat-tools.js';
import { registerDocumentRoutes } from './wiring/document-routes.js';
import { startSandbox } from './wiring/sandbox.js';

export interface PulpServer {
  app: PulpFastify;
  config: Config;
  db: Database;
  metrics: Metrics;
  health: HealthSources;
  auth: AuthService;
  mcp: McpManager;
  /** Uploaded documents: conversion, the background indexer, knowledge search. */
  documents: Documents;
  /** Stops accepting, ends running work, closes sockets, pools and the database — in that order. */
  close(): Promise<void>;
}

export interface CreatePulpOptions {
  config: Config;
  db: Database;
  logger: Logger;
  /** Collect process metrics (off in tests, where many servers share one process). */
  defaultMetrics?: boolean;
  /** Start the built-in MCP servers (default true; tests that do not need them turn them off). */
  mcpBuiltins?: boolean;
}

/** How long after listening the MCP pools start (see the onListen hook below). */
const MCP_START_DELAY_MS = 1_000;

export async function createPulp(options: CreatePulpOptions): Promise<PulpServer> {
  const { config, db, logger } = options;
  // The sandbox probe runs a real program in a child process: it overlaps the migrations and the
  // rest of the set-up instead of adding to the time before the server listens.
  const sandboxProbe = startSandbox(config, logger);
  // Awaited below; marked handled now so a failure before that point is not an unhandled rejection.
  sandboxProbe.catch(() => undefined);
  const applied = await migrate(db);
  if (applied.length > 0) logger.info({ migrations: applied }, `applied ${applied.length} database migration(s)`);
  await ensureSearchLanguage(db, config.search.language, logger);
  const metrics = createMetrics({ defaultMetrics: options.defaultMetrics ?? false });
  const health = defaultHealthSources(describeLlm(config.llm));
  const app = await createHttpServer({
    logger,
    metrics,
    debug: config.debug,
    version: VERSION,
    network: { host: config.host, publicUrl: config.publicUrl, allowedHosts: config.network.allowedHosts },
  });

  // Counters in PostgreSQL hold for every server sharing it; PGlite is one server's own.
  const limits = new RateLimitStore({ db: db.driver === 'postgres' ? db : undefined, registry: metrics.registry });
  // Several servers share one PostgreSQL through src/cluster; PGlite is one server's own.
  const clustered = config.databaseUrl !== undefined && db.driver === 'postgres';
  // A user's running turns: those started here (counted at once) and, with several servers, those
  // the servers recorded in chat_turns. Only asked once sockets are open, so `chat` exists by then.
  const userLimits = new UserLimits({
    store: limits,
    settings: config.userLimits,
    runningSessions: async (userId) => [
      ...chat.localTurnSessionsOf(userId),
      ...(clustered ? await openTurnSessionsOf(db, userId) : []),
    ],
  });
  registerWriteLimit(app, userLimits);

  const warnUnknownModel = (model: string, assumed: number) =>
    logger.warn({ model, assumed_window: assumed }, 'unknown model: assuming a context window; set MODEL_CONTEXT_WINDOWS to correct it');
  const contextWindow = (model: string) => contextWindowFor(model, config.llm.contextWindowOverrides, warnUnknownModel);

  const auth = new AuthService({
    db,
    mode: config.auth.mode,
    jwtSecret: config.auth.jwtSecret,
    allowRegistration: config.auth.allowRegistration,
    passwordLogin: config.auth.passwordLogin,
  });
  await auth.init();
  const authenticate = (token: string | undefined) => auth.authenticate(token);

  const mcp = new McpManager({
    config: { ...config.mcp, dataDir: config.dataDir, fetchAllowedHosts: config.network.fetchAllowedHosts },
    logger,
    registry: metrics.registry,
    builtins: options.mcpBuiltins ?? true,
  });
  // Pools start in the background a moment after the server listens: spawning their processes
  // blocks the event loop for tens of milliseconds each, which would otherwise hold up the first
  // requests (readiness probes, the page). A turn that needs tools sooner starts them at once and
  // waits (see McpManager.toolsFor).
  app.addHook('onListen', (done) => {
    setTimeout(() => {
      mcp.start().catch((err: unknown) => logger.error({ err }, 'mcp pools failed to start'));
    }, MCP_START_DELAY_MS).unref();
    done();
  });
  health.mcp = () => mcp.health();

  const workspace = createWorkspace(config.dataDir);
  const sandbox = await sandboxProbe;
  health.codeInterpreter = () => ({ available: sandbox !== undefined });

  registerHealthRoutes(app, { db, metrics, sources: health, version: VERSION, startedAt: Date.now(), metricsToken: config.metricsToken });
  registerConfigRoute(app, {
    config,
    version: VERSION,
    contextWindow,
    mcpServers: () => mcp.describeServers(),
    codeInterpreterAvailable: () => health.codeInterpreter().available,
    registrationOpen: () => auth.registrationOpen(),
  });
  const authLimiter = authAttemptLimit(limits, config.auth.rateLimitPerMinute);
  registerAuthRoutes(app, auth, authLimiter);
  if (config.auth.oidc && config.publicUrl) {
    registerOidcRoutes(app, { oidc: new OidcLogin({ db, auth, config: config.auth.oidc }), publicUrl: config.publicUrl, limiter: authLimiter });
  }
  const modelProvider = createModelProvider(config.llm);
  const usage = new UsageMeter({ db, logger, metrics, provider: config.llm.provider, prices: config.usage.prices, budgets: config.usage.budgets });
  const summarizer = createSummarizer({ db, modelProvider, usage, metrics, summaryRetryBackoffMs: config.llm.summaryRetryBackoffMs });
  // Several servers share one PostgreSQL through src/cluster; PGlite is one server's own.
  const cluster = clustered && config.databaseUrl ? createCluster({ url: config.databaseUrl, db, logger, poolMax: config.dbPoolMax }) : undefined;
  const documents = new Documents({
    db,
    logger,
    dataDir: config.dataDir,
    sessionRoot: (publicId) => workspace.root(publicId),
    converter: { timeoutMs: config.documents.conversionTimeoutMs, limits: { maxPages: config.documents.maxPages, maxChars: config.documents.maxChars } },
    embedder: embedderFor({ embeddingModel: config.documents.embeddingModel, baseUrl: config.llm.openaiBaseUrl, apiKey: config.llm.openaiApiKey }),
    recordUsage: (call, model, reported) => usage.record(call, model, reported),
  });
  const approvals = new ApprovalService({ db, logger, mode: config.toolApproval.mode, timeoutS: config.toolApproval.timeoutS });
  const chat = await registerChatSocket(app, {
    ...(cluster ? { distribution: (registry) => cluster.distribution(registry) } : {}),
    db,
    config,
    logger,
    metrics,
    authenticate,
    findOwnedSession: (userId, publicId) => findOwnedSession(db, userId, publicId),
    modelProvider,
    usage,
    tools: chatTools({ db, workspace, sandbox, documents, mcp, approvals }),
    pauses: approvals,
    decide: async (session, frame, by) => {
      await approvals.decide(session, frame.tool_call_id, { decision: frame.type, by, reason: frame.reason, always: frame.always });
    },
    instructions: (session) => sessionInstructions(db, session, sandbox !== undefined),
    countTokens: (model, items) => countItems(model, items),
    contextWindow,
    hooks: createContextHooks({ modelProvider, usage }),
    summarize: summarizer.summarize,
    classifyError: createErrorClassifier(config.llm),
    admitMessage: (userId, sessionUuid) => userLimits.admitMessage(userId, sessionUuid),
    sessionRoot: (publicId) => workspace.root(publicId),
  });
  health.websocket = () => chat.connectionCounts();
  approvals.attach(chat);
  approvals.start();
  registerApprovalRoutes(app, { authenticate, findOwnedSession: (userId, publicId) => findOwnedSession(db, userId, publicId), approvals });
  // A disabled or deleted user's open chat sockets close with 4403 at once, here and on every
  // other server of the cluster (REST needs nothing: every request reads the user's row).
  const closeSocketsOf = (userId: string) => chat.closeConnectionsOf(userId, CLOSE_BAD_TOKEN, 'Account disabled');
  auth.onUserDisabled(async (userId) => {
    closeSocketsOf(userId);
    cluster?.announceUserDisabled(userId);
  });
  cluster?.onUserDisabled(closeSocketsOf);
  // A logout revokes the user's access tokens; sockets opened with them close too (4403: a client
  // with a valid refresh token refreshes and reconnects).
  auth.onLoggedOut((userId) => chat.closeConnectionsOf(userId, CLOSE_BAD_TOKEN, 'Logged out'));
  await cluster?.start();
  if (cluster) {
    health.cluster = () => cluster.health();
    // On several servers a starting server is often a replacement, and the clients of a dead one
    // arrive as soon as it listens: their first turns must not wait while the token tables load
    // (0.2 s of blocked event loop on a quiet machine, seconds on a busy one, for every turn here).
    loadEncoding(encodingFor(config.llm.defaultModel));
  }
  await registerDocumentRoutes(app, { db, auth, userLimits, workspace, documents, maxUploadBytes: config.maxUploadBytes });
  await documents.start();

  await registerChatRoutes(app, {
    db,
    config,
    auth,
    authenticate,
    mcp,
    workspace,
    chat,
    approvals,
    contextWindow,
    summarize: (session) => summarizer.summarizeNow(session, contextWindow(session.model)),
  });

  await registerWebClient(app);

  app.addHook('onClose', async () => {
    approvals.stop();
    await documents.close();
    limits.close();
    await mcp.close();
    await db.close();
  });
  await app.ready();

  let closing: Promise<void> | undefined;
  return {
    app,
    config,
    db,
    metrics,
    health,
    auth,
    mcp,
    documents,
    close: () => (closing ??= app.close()),
  };
}
