/**
 * The REST routes around chats and accounts: sessions, presets, search, export and import,
 * shares, API keys, administration and usage. Each capability's routes get the services they act
 * through; running turns are stopped through the chat service before a chat changes or goes.
 */
import { registerAdminRoutes } from '../admin/routes.js';
import { UserAdmin } from '../admin/user-admin.js';
import type { ApprovalService } from '../approvals/approval-service.js';
import { registerApiKeyRoutes } from '../auth/api-key-routes.js';
import type { AuthService } from '../auth/auth-service.js';
import type { Authenticate } from '../auth/types.js';
import type { ChatService } from '../chat/chat-service.js';
import type { Config } from '../config/config.js';
import { countItems } from '../context/tokens.js';
import type { Database } from '../db/database.js';
import { attachLibraries, checkOwnLibraries } from '../documents/http/library-store.js';
import type { PulpFastify } from '../http/server.js';
import type { McpManager } from '../mcp/manager.js';
import { findOwnedPreset } from '../presets/preset-store.js';
import { registerPresetRoutes } from '../presets/routes.js';
import { registerSearchRoutes } from '../search/routes.js';
import { registerSessionRoutes, type SessionRouteDeps } from '../sessions/routes.js';
import { registerShareRoutes } from '../shares/routes.js';
import { registerTransferRoutes } from '../transfer/routes.js';
import { registerUsageRoutes } from '../usage/routes.js';
import type { Workspace } from '../workspace/workspace.js';

/** How long deleting or changing a chat waits for its stopped turn to end. */
const TURN_STOP_WAIT_MS = 10_000;

export interface ChatRouteDeps {
  db: Database;
  config: Config;
  auth: AuthService;
  authenticate: Authenticate;
  mcp: McpManager;
  workspace: Workspace;
  chat: ChatService;
  approvals: ApprovalService;
  contextWindow: (model: string) => number;
  /** Forced summarization of a session (`POST /sessions/{id}/summarize`). */
  summarize: NonNullable<SessionRouteDeps['summarize']>;
}

export async function registerChatRoutes(app: PulpFastify, deps: ChatRouteDeps): Promise<void> {
  const { db, config, auth, authenticate, mcp, workspace, chat, approvals, contextWindow } = deps;
  const mcpNames = { unknownNames: (names: string[]) => mcp.validateNames(names), defaultNames: () => mcp.serverNames() };
  const workspaceDirs = {
    create: async (publicId: string) => {
      await workspace.create(publicId);
    },
    remove: (publicId: string) => workspace.remove(publicId),
  };
  registerSessionRoutes(app, {
    db,
    authenticate,
    models: config.llm.models,
    defaultModel: config.llm.defaultModel,
    contextWindow,
    mcp: mcpNames,
    workspace: workspaceDirs,
    turns: {
      isRunning: (sessionUuid) => chat.isRunning(sessionUuid),
      interrupt: async (sessionUuid) => {
        if (!chat.interrupt(sessionUuid)) await approvals.endPaused(sessionUuid, 'the user');
        await chat.whenIdle(sessionUuid, TURN_STOP_WAIT_MS);
      },
    },
    countTokens: (model, items) => countItems(model, items),
    attachLibraries: (userId, sessionUuid, ids) => attachLibraries(db, userId, sessionUuid, ids),
    summarize: deps.summarize,
    findPreset: (userId, presetId) => findOwnedPreset(db, userId, presetId),
  });
  registerPresetRoutes(app, {
    db,
    authenticate,
    offer: { models: config.llm.models, unknownMcpNames: (names) => mcp.validateNames(names) },
    checkLibraries: (userId, ids) => checkOwnLibraries(db, userId, ids),
  });
  registerSearchRoutes(app, { db, authenticate, language: config.search.language });

  await registerTransferRoutes(app, {
    db,
    authenticate,
    models: config.llm.models,
    defaultModel: config.llm.defaultModel,
    mcp: mcpNames,
    workspace: workspaceDirs,
    importMaxBytes: config.importMaxBytes,
    debug: config.debug,
  });
  registerShareRoutes(app, { db, authenticate, enabled: config.allowSharing });

  registerApiKeyRoutes(app, { db, authenticate, enabled: config.auth.mode === 'jwt' });
  registerAdminRoutes(app, {
    authenticate,
    budgets: config.usage.budgets,
    users: new UserAdmin({
      db,
      auth,
      turns: {
        isRunning: (sessionUuid) => chat.isRunning(sessionUuid),
        interrupt: async (sessionUuid) => {
          chat.interrupt(sessionUuid);
          await chat.whenIdle(sessionUuid, TURN_STOP_WAIT_MS);
        },
      },
      workspace: { remove: (publicId) => workspace.remove(publicId) },
    }),
  });

  registerUsageRoutes(app, { db, authenticate, budgets: config.usage.budgets });
}
