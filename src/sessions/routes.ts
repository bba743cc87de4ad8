/** `/api/v1/sessions` REST routes: translate requests to the session store and back. */
import { z } from 'zod';
import type { Authenticate } from '../auth/types.js';
import { requireUser, userOf } from '../auth/request-user.js';
import type { Database } from '../db/database.js';
import { AppError } from '../errors/app-error.js';
import { API_PREFIX, type PulpFastify } from '../http/server.js';
import type { AgentInputItem } from '@openai/agents';
import { branchTotal, findRow } from '../chat/branch.js';
import { newestLeafUnder, newestOnPath, pathByOffset, PathMessageSchema } from './messages.js';
import {
  CreateSessionBodySchema,
  GetSessionQuerySchema,
  ListMessagesQuerySchema,
  ListSessionsQuerySchema,
  PaginationSchema,
  SetActiveLeafBodySchema,
  SessionParamsSchema,
  SessionSchema,
  UpdateSessionBodySchema,
} from './schemas.js';
import { toSession } from './serialize.js';
import { deleteSession, findOwnedSession, insertSession, listSessions, updateSession } from './session-store.js';
import { newSessionSettings } from './new-session.js';
import { checkSettings } from './settings.js';
import type { FindOwnedPreset, SessionRow } from './types.js';

export interface SessionRouteDeps {
  db: Database;
  authenticate: Authenticate;
  models: string[];
  defaultModel: string;
  contextWindow: (model: string) => number;
  mcp: { unknownNames(names: string[]): string[]; defaultNames(): string[] };
  workspace: { create(publicId: string): Promise<void>; remove(publicId: string): Promise<void> };
  turns: { isRunning(sessionUuid: string): boolean; interrupt(sessionUuid: string): Promise<void> };
  /** Counts context items on a model: the token total of a branch switched to. */
  countTokens?: (model: string, items: AgentInputItem[]) => number;
  /** Attaches the user's libraries to a session (`library_ids`); throws `RES_3040` for one that is not the user's. */
  attachLibraries?: (userId: string, sessionUuid: string, libraryIds: string[]) => Promise<void>;
  /** Forced summarization; absent until context management is wired. */
  summarize?: (session: SessionRow) => Promise<Record<string, unknown>>;
  /** The presets `POST /sessions {preset_id}` copies from; absent, `preset_id` finds nothing. */
  findPreset?: FindOwnedPreset;
}

const FileSchema = z.object({
  name: z.string(),
  folder: z.string(),
  path: z.string(),
  size: z.number(),
  content_type: z.string().nullable(),
  uploaded_at: z.string(),
});

export function registerSessionRoutes(app: PulpFastify, deps: SessionRouteDeps): void {
  const { db } = deps;
  const tags = ['sessions'];
  const security = [{ bearer: [] }];
  const onRequest = requireUser(deps.authenticate);
  const session = (row: SessionRow) => toSession(row, deps.contextWindow);

  const owned = async (userId: string, id: string): Promise<SessionRow> => {
    const row = await findOwnedSession(db, userId, id);
    if (!row) throw new AppError('SES_4001', 'Session not found.');
    return row;
  };
  const offer = { models: deps.models, unknownMcpNames: (names: string[]) => deps.mcp.unknownNames(names) };

  app.get(
    `${API_PREFIX}/sessions`,
    {
      onRequest,
      schema: {
        tags,
        security,
        querystring: ListSessionsQuerySchema,
        response: { 200: z.object({ sessions: z.array(SessionSchema), pagination: PaginationSchema }) },
      },
    },
    async (request) => {
      const { offset, limit, archived } = request.query;
      const { rows, total } = await listSessions(db, userOf(request).id, offset, limit, archived);
      return {
        sessions: rows.map(session),
        pagination: { total_count: total, offset, limit, has_more: offset + rows.length < total },
      };
    },
  );

  app.post(
    `${API_PREFIX}/sessions`,
    { onRequest, schema: { tags, security, body: CreateSessionBodySchema.optional(), response: { 201: SessionSchema } } },
    async (request, reply) => {
      const body = request.body ?? {};
      const userId = userOf(request).id;
      checkSettings(offer, body);
      const { libraryIds, ...settings } = await newSessionSettings(body, {
        offer,
        defaultModel: deps.defaultModel,
        defaultMcpNames: () => deps.mcp.defaultNames(),
        findPreset: (presetId) => deps.findPreset?.(userId, presetId) ?? Promise.resolve(null),
      });
      const row = await insertSession(db, { userId, title: body.title ?? null, isNamed: body.title !== undefined, ...settings });
      try {
        await deps.workspace.create(row.session_id);
        if (libraryIds.length > 0) await deps.attachLibraries?.(row.user_id, row.id, libraryIds);
      } catch (err) {
        await deleteSession(db, row.user_id, row.id);
        await deps.workspace.remove(row.session_id).catch(() => undefined);
        throw err;
      }
      return reply.code(201).send(session(row));
    },
  );

  app.get(
    `${API_PREFIX}/sessions/:id`,
    {
      onRequest,
      schema: {
        tags,
        security,
        params: SessionParamsSchema,
        querystring: GetSessionQuerySchema,
        response: {
          200: z.object({
            session: SessionSchema,
            messages: z.array(PathMessageSchema),
            files: z.array(FileSchema),
            has_more: z.boolean(),
            message_count: z.number().int(),
          }),
        },
      },
    },
    async (request) => {
      const row = await owned(userOf(request).id, request.params.id);
      const [{ messages, hasOlder: hasMore }, files] = await Promise.all([
        newestOnPath(db, row.id, request.query.limit),
        db.query<{ filename: string; folder: string; size_bytes: number; content_type: string | null; uploaded_at: Date }>(
          'SELECT filename, folder, size_bytes, content_type, uploaded_at FROM files WHERE session_id = $1 ORDER BY folder, filename',
          [row.id],
        ),
      ]);
      return {
        session: session(row),
        messages,
        files: files.rows.map((f) => ({
          name: f.filename,
          folder: f.folder,
          path: `${f.folder}/${f.filename}`,
          size: f.size_bytes,
          content_type: f.content_type,
          uploaded_at: f.uploaded_at.toISOString(),
        })),
        has_more: hasMore,
        message_count: row.message_count,
      };
    },
  );

  app.patch(
    `${API_PREFIX}/sessions/:id`,
    { onRequest, schema: { tags, security, params: SessionParamsSchema, body: UpdateSessionBodySchema, response: { 200: SessionSchema } } },
    async (request) => {
      const user = userOf(request);
      const row = await owned(user.id, request.params.id);
      checkSettings(offer, request.body);
      if (request.body.library_ids) await deps.attachLibraries?.(user.id, row.id, request.body.library_ids);
      const updated = await updateSession(db, user.id, row.id, request.body);
      if (!updated) throw new AppError('SES_4001', 'Session not found.');
      return session(updated);
    },
  );

  app.delete(
    `${API_PREFIX}/sessions/:id`,
    {
      onRequest,
      schema: { tags, security, params: SessionParamsSchema, response: { 200: z.object({ success: z.literal(true), session_id: z.string() }) } },
    },
    async (request) => {
      const user = userOf(request);
      const row = await owned(user.id, request.params.id);
      if (deps.turns.isRunning(row.id)) await deps.turns.interrupt(row.id);
      await deleteSession(db, user.id, row.id);
      await deps.workspace.remove(row.session_id);
      return { success: true as const, session_id: row.session_id };
    },
  );

  const leafOf = async (sessionUuid: string, messageId: string): Promise<string> => {
    const row = await findRow(db, sessionUuid, messageId);
    const leaf = row ? await newestLeafUnder(db, sessionUuid, row.id) : undefined;
    if (!leaf) throw new AppError('RES_3010', `Message ${messageId} is not a message of this chat.`);
    return leaf;
  };
  const MessagePage = z.object({ messages: z.array(PathMessageSchema), pagination: PaginationSchema });

  app.get(
    `${API_PREFIX}/sessions/:id/messages`,
    {
      onRequest,
      schema: { tags, security, params: SessionParamsSchema, querystring: ListMessagesQuerySchema, response: { 200: MessagePage } },
    },
    async (request) => {
      const row = await owned(userOf(request).id, request.params.id);
      const { offset, limit, before_seq: beforeSeq, leaf_id: leafId } = request.query;
      const leaf = leafId === undefined ? undefined : await leafOf(row.id, leafId);
      if (beforeSeq !== undefined) {
        const page = await newestOnPath(db, row.id, limit, { beforeSeq, ...(leaf ? { leafId: leaf } : {}) });
        return { messages: page.messages, pagination: { total_count: page.total, offset: 0, limit, has_more: page.hasOlder } };
      }
      const start = offset ?? 0;
      const page = await pathByOffset(db, row.id, start, limit, leaf);
      return { messages: page.messages, pagination: { total_count: page.total, offset: start, limit, has_more: start + page.messages.length < page.total } };
    },
  );

  app.put(
    `${API_PREFIX}/sessions/:id/active-leaf`,
    {
      onRequest,
      schema: {
        tags,
        security,
        params: SessionParamsSchema,
        body: SetActiveLeafBodySchema,
        response: { 200: MessagePage.extend({ active_leaf_id: z.string() }) },
      },
    },
    async (request) => {
      const row = await owned(userOf(request).id, request.params.id);
      const leaf = await leafOf(row.id, request.body.message_id);
      // A paused turn goes on from its own last row, so its branch stays put until it is decided.
      if (deps.turns.isRunning(row.id) || (row.pending_approvals ?? 0) > 0) {
        throw new AppError('RES_3011', 'A turn is running or waiting for approval in this chat; switch branches when it ends (or stop it first).');
      }
      const count = deps.countTokens;
      const total = count
        ? await branchTotal(db, row.id, { fromLeaf: row.active_leaf_id, toLeaf: leaf, total: row.total_tokens }, (items) => count(row.model, items))
        : row.total_tokens;
      await db.query('UPDATE sessions SET active_leaf_id = $2, total_tokens = $3 WHERE id = $1', [row.id, leaf, total]);
      const limit = 50;
      const page = await newestOnPath(db, row.id, limit, { leafId: leaf });
      return { active_leaf_id: leaf, messages: page.messages, pagination: { total_count: page.total, offset: 0, limit, has_more: page.hasOlder } };
    },
  );

  app.post(
    `${API_PREFIX}/sessions/:id/summarize`,
    { onRequest, schema: { tags, security, params: SessionParamsSchema } },
    async (request) => {
      const row = await owned(userOf(request).id, request.params.id);
      if (deps.turns.isRunning(row.id)) throw new AppError('RES_3004', 'A turn is running in this session; try again when it ends.');
      if (!deps.summarize) return { success: false, message: 'Summarization is not available on this server.' };
      return deps.summarize(row);
    },
  );
}
