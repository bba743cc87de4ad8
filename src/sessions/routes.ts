/** `/api/v1/sessions` REST routes: translate requests to the session store and back. */
import { z } from 'zod';
import type { Authenticate } from '../auth/types.js';
import { requireUser, userOf } from '../auth/request-user.js';
import type { Database } from '../db/database.js';
import { AppError, type ErrorDetail } from '../errors/app-error.js';
import { API_PREFIX, type PulpFastify } from '../http/server.js';
import { countMessages, messagesByOffset, MessageSchema, newestMessages } from './messages.js';
import {
  CreateSessionBodySchema,
  GetSessionQuerySchema,
  ListMessagesQuerySchema,
  ListSessionsQuerySchema,
  PaginationSchema,
  SessionParamsSchema,
  SessionSchema,
  UpdateSessionBodySchema,
} from './schemas.js';
import { toSession } from './serialize.js';
import { deleteSession, findOwnedSession, insertSession, listSessions, updateSession } from './session-store.js';
import type { SessionRow } from './types.js';

export interface SessionRouteDeps {
  db: Database;
  authenticate: Authenticate;
  models: string[];
  defaultModel: string;
  contextWindow: (model: string) => number;
  mcp: { unknownNames(names: string[]): string[]; defaultNames(): string[] };
  workspace: { create(publicId: string): Promise<void>; remove(publicId: string): Promise<void> };
  turns: { isRunning(sessionUuid: string): boolean; interrupt(sessionUuid: string): Promise<void> };
  /** Attaches the user's libraries to a session (`library_ids`); throws `RES_3040` for one that is not the user's. */
  attachLibraries?: (userId: string, sessionUuid: string, libraryIds: string[]) => Promise<void>;
  /** Forced summarization; absent until context management is wired. */
  summarize?: (session: SessionRow) => Promise<Record<string, unknown>>;
}

const FileSchema = z.object({
  name: z.string(),
  folder: z.string(),
  path: z.string(),
  size: z.number(),
  content_type: z.string().nullable(),
  uploaded_at: z.string(),
});

function validation(field: string, message: string): AppError {
  const details: ErrorDetail[] = [{ field, message }];
  return new AppError('VAL_2001', `Validation failed: ${field}: ${message}`, details);
}

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
  const checkModel = (model: string | undefined) => {
    if (model !== undefined && !deps.models.includes(model)) {
      throw validation('model', `unknown model "${model}"; choose one of ${deps.models.join(', ')}`);
    }
  };
  const checkMcp = (names: string[] | null | undefined) => {
    const unknown = names ? deps.mcp.unknownNames(names) : [];
    if (unknown.length > 0) throw validation('mcp_config', `unknown MCP server(s): ${unknown.join(', ')}`);
  };

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
      const { offset, limit } = request.query;
      const { rows, total } = await listSessions(db, userOf(request).id, offset, limit);
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
      checkModel(body.model);
      checkMcp(body.mcp_config);
      const row = await insertSession(db, {
        userId: userOf(request).id,
        title: body.title ?? null,
        isNamed: body.title !== undefined,
        model: body.model ?? deps.defaultModel,
        reasoningEffort: body.reasoning_effort ?? null,
        mcpConfig: body.mcp_config ?? deps.mcp.defaultNames(),
      });
      try {
        await deps.workspace.create(row.session_id);
        if (body.library_ids) await deps.attachLibraries?.(row.user_id, row.id, body.library_ids);
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
            messages: z.array(MessageSchema),
            files: z.array(FileSchema),
            has_more: z.boolean(),
            message_count: z.number().int(),
          }),
        },
      },
    },
    async (request) => {
      const row = await owned(userOf(request).id, request.params.id);
      const [{ messages, hasMore }, files] = await Promise.all([
        newestMessages(db, row.id, request.query.limit),
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
      checkModel(request.body.model);
      checkMcp(request.body.mcp_config);
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

  app.get(
    `${API_PREFIX}/sessions/:id/messages`,
    {
      onRequest,
      schema: {
        tags,
        security,
        params: SessionParamsSchema,
        querystring: ListMessagesQuerySchema,
        response: { 200: z.object({ messages: z.array(MessageSchema), pagination: PaginationSchema }) },
      },
    },
    async (request) => {
      const row = await owned(userOf(request).id, request.params.id);
      const { offset, limit, before_seq: beforeSeq } = request.query;
      if (beforeSeq !== undefined) {
        const [{ messages, hasMore }, total] = await Promise.all([
          newestMessages(db, row.id, limit, beforeSeq),
          countMessages(db, row.id),
        ]);
        return { messages, pagination: { total_count: total, offset: 0, limit, has_more: hasMore } };
      }
      const start = offset ?? 0;
      const [messages, total] = await Promise.all([messagesByOffset(db, row.id, start, limit), countMessages(db, row.id)]);
      return { messages, pagination: { total_count: total, offset: start, limit, has_more: start + messages.length < total } };
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
