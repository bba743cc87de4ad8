/**
 * The files REST API under `/api/v1/sessions/:id/files`: list, streaming upload,
 * streamed download, delete. Routes only translate: the jail, the disk helpers and the `files`
 * table do the work. Every path goes through the jail; a missing or foreign session is `SES_4001`.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import multipart from '@fastify/multipart';
import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { Queryable } from '../../db/database.js';
import type { DocumentState } from '../../documents/documents-table.js';
import { AppError } from '../../errors/app-error.js';
import { API_PREFIX, type PulpFastify } from '../../http/server.js';
import type { FindOwnedSession, SessionRow } from '../../sessions/types.js';
import { canShowInline, contentDisposition, contentTypeFor, mediaTypeFor } from '../content-type.js';
import { EntrySchema, listFolder } from '../disk.js';
import { deleteFileRows, upsertFileRow } from '../files-table.js';
import { openInsideForRead, parseFolder, parseRelativePath, resolveInside, safeUploadName, symlinkInside, toFileAppError, type Folder } from '../jail.js';
import type { Workspace } from '../workspace.js';
import { receiveUpload } from './upload.js';

export interface FileRouteDeps {
  db: Queryable;
  workspace: Pick<Workspace, 'create'>;
  /** `MAX_UPLOAD_BYTES`: the largest file accepted, counted while it streams. */
  maxUploadBytes: number;
  /** The caller, or a thrown `AppError` (`AUTH_1001`…) when there is none. */
  authenticate: (request: FastifyRequest) => Promise<{ id: string }>;
  findOwnedSession: FindOwnedSession;
  /** Conversion and indexing of uploads (src/documents); files are plain downloads without it. */
  documents?: FileDocumentHooks;
}

export interface FileDocumentHooks {
  fileStored(owner: { sessionUuid: string }, folder: Folder, filename: string, size: number): Promise<void>;
  filesRemoved(sessionUuid: string, folder: Folder, filename: string): Promise<void>;
  states(sessionUuid: string, folder: Folder): Promise<Map<string, Pick<DocumentState, 'conversion' | 'indexing'>>>;
}

const ParamsSchema = z.object({ id: z.string().max(64) });
const FileParamsSchema = ParamsSchema.extend({ folder: z.string(), '*': z.string() });
// No length limits here: the jail refuses bad folders and paths with FILE_5004.
const ListQuerySchema = z.object({ folder: z.string().optional(), path: z.string().optional() });
const DownloadQuerySchema = z.object({ disposition: z.enum(['attachment', 'inline']).optional() });

const ListedEntrySchema = EntrySchema.extend({
  conversion: z.object({ status: z.enum(['pending', 'done', 'failed', 'unsupported', 'no_text']), error: z.string().optional() }).optional(),
  indexing: z.enum(['pending', 'done', 'failed']).nullable().optional(),
});
export const FileListSchema = z.object({ files: z.array(ListedEntrySchema), folder: z.enum(['input', 'output']), count: z.number().int() });
export const UploadResultSchema = z.object({
  name: z.string(),
  size: z.number().int(),
  folder: z.enum(['input', 'output']),
  path: z.string(),
  content_type: z.string(),
});
const SuccessSchema = z.object({ success: z.literal(true) });

interface SessionContext {
  session: SessionRow;
  rootReal: string;
}

/**
 * Registers the file routes in their own plugin scope (which also holds `@fastify/multipart`, so
 * no other route accepts multipart bodies). Await it before `app.ready()`.
 */
export async function registerFileRoutes(app: PulpFastify, deps: FileRouteDeps): Promise<void> {
  await app.register(async (scope) => {
    await scope.register(multipart, { limits: { fileSize: deps.maxUploadBytes, files: 1 } });
    registerInScope(scope, deps);
  });
}

function registerInScope(app: PulpFastify, deps: FileRouteDeps): void {
  const base = `${API_PREFIX}/sessions/:id/files`;
  const tags = ['files'];
  const security = [{ bearer: [] }];

  const sessionFor = async (request: FastifyRequest, publicId: string): Promise<SessionContext> => {
    const user = await deps.authenticate(request);
    const session = await deps.findOwnedSession(user.id, publicId);
    if (!session) throw new AppError('SES_4001', 'Session not found.');
    // Created lazily too: a session made before the workspace existed still gets its folders.
    const root = await deps.workspace.create(session.session_id);
    return { session, rootReal: await fs.realpath(root) };
  };

  app.get(
    base,
    { schema: { tags, security, params: ParamsSchema, querystring: ListQuerySchema, response: { 200: FileListSchema } } },
    async (request) => {
      const folder = parseFolder(request.query.folder ?? 'input');
      const segments = parseRelativePath(request.query.path ?? '');
      const { session, rootReal } = await sessionFor(request, request.params.id);
      const shown = [folder, ...segments].join('/');
      const dir = await resolveInside(rootReal, [folder, ...segments]);
      if (!dir.exists) throw new AppError('FILE_5001', `No folder at "${shown}".`);
      const stat = await fs.stat(dir.real);
      if (!stat.isDirectory()) throw new AppError('FILE_5004', `"${shown}" is a file, not a folder.`);
      try {
        const files = await listFolder(dir.real, rootReal, segments.join('/'));
        const states = await deps.documents?.states(session.id, folder);
        const listed = files.map((f) => {
          const state = f.type === 'file' ? states?.get(f.path) : undefined;
          return state ? { ...f, conversion: state.conversion, indexing: state.indexing } : f;
        });
        return { files: listed, folder, count: files.length };
      } catch (err) {
        throw toFileAppError(err, shown);
      }
    },
  );

  app.post(
    base,
    { schema: { tags, security, params: ParamsSchema, querystring: ListQuerySchema, consumes: ['multipart/form-data'], response: { 201: UploadResultSchema } } },
    async (request, reply) => {
      const { session, rootReal } = await sessionFor(request, request.params.id);
      // The temp file lives in the session directory itself: the same file system as the
      // target (so the rename is atomic) and outside what the sandbox can see.
      const upload = await receiveUpload(request, rootReal, rootReal, deps.maxUploadBytes);
      try {
        const folder = parseFolder(upload.fields.folder ?? request.query.folder ?? 'input');
        const sub = parseRelativePath(upload.fields.path ?? request.query.path ?? '');
        const name = safeUploadName(upload.filename);
        const relative = [...sub, name].join('/');
        const target = await resolveInside(rootReal, [folder, ...sub, name]);
        if (target.exists && (await fs.stat(target.real)).isDirectory()) {
          throw new AppError('RES_3002', `"${folder}/${relative}" is a folder; pick another name.`);
        }
        await fs.mkdir(path.dirname(target.real), { recursive: true, mode: 0o755 });
        await fs.rename(upload.tempPath, target.real);
        const contentType = mediaTypeFor(name);
        await upsertFileRow(deps.db, { sessionUuid: session.id, folder, filename: relative, contentType, sizeBytes: upload.size });
        await deps.documents?.fileStored({ sessionUuid: session.id }, folder, relative, upload.size);
        reply.code(201);
        return { name, size: upload.size, folder, path: relative, content_type: contentType };
      } catch (err) {
        throw toFileAppError(err, upload.filename);
      } finally {
        await fs.rm(upload.tempPath, { force: true });
      }
    },
  );

  const locate = async (request: FastifyRequest, params: z.infer<typeof FileParamsSchema>) => {
    const folder: Folder = parseFolder(params.folder);
    const segments = parseRelativePath(params['*']);
    if (segments.length === 0) throw new AppError('FILE_5004', 'Name a file inside the folder.');
    const context = await sessionFor(request, params.id);
    return { ...context, folder, segments, relative: segments.join('/'), shown: [folder, ...segments].join('/') };
  };

  const resolveFile = async (request: FastifyRequest, params: z.infer<typeof FileParamsSchema>, located?: Awaited<ReturnType<typeof locate>>) => {
    const context = located ?? (await locate(request, params));
    const { folder, segments } = context;
    const resolved = await resolveInside(context.rootReal, [folder, ...segments]);
    // A link to a folder root (or the session directory) must not make DELETE empty a whole folder.
    const protectedDirs = [context.rootReal, ...(['input', 'output'] as const).map((f) => path.join(context.rootReal, f))];
    if (protectedDirs.includes(resolved.real)) throw new AppError('FILE_5004', 'That path names a whole folder.');
    return { ...context, resolved };
  };

  app.get(
    `${base}/:folder/*`,
    { schema: { tags, security, params: FileParamsSchema, querystring: DownloadQuerySchema } },
    async (request, reply) => {
      const { rootReal, resolved, shown, relative } = await resolveFile(request, request.params);
      if (!resolved.exists) throw new AppError('FILE_5001', `No file at "${shown}".`);
      let handle;
      try {
        handle = await openInsideForRead(resolved.real, rootReal);
      } catch (err) {
        throw toFileAppError(err, shown);
      }
      const stat = await handle.stat();
      if (!stat.isFile()) {
        await handle.close();
        throw new AppError('FILE_5004', `"${shown}" is a folder, not a file.`);
      }
      const name = path.basename(relative);
      const inline = request.query.disposition === 'inline' && canShowInline(name);
      return reply
        .header('content-type', contentTypeFor(name))
        .header('content-length', stat.size)
        .header('content-disposition', contentDisposition(name, inline ? 'inline' : 'attachment'))
        .header('x-content-type-options', 'nosniff')
        .header('content-security-policy', "default-src 'none'; sandbox")
        .header('cache-control', 'private, no-cache')
        .send(handle.createReadStream());
    },
  );

  app.delete(
    `${base}/:folder/*`,
    { schema: { tags, security, params: FileParamsSchema, response: { 200: SuccessSchema } } },
    async (request) => {
      const located = await locate(request, request.params);
      // A symbolic link (the code interpreter can leave any) is removed itself, wherever it points:
      // its target is never followed, so nothing outside the link changes.
      const link = await symlinkInside(located.rootReal, [located.folder, ...located.segments]).catch((err: unknown) => {
        throw toFileAppError(err, located.shown);
      });
      if (link) {
        await fs.unlink(link).catch((err: unknown) => {
          throw toFileAppError(err, located.shown);
        });
        await deleteFileRows(deps.db, located.session.id, located.folder, located.relative);
        await deps.documents?.filesRemoved(located.session.id, located.folder, located.relative);
        return { success: true as const };
      }
      const { session, resolved, folder, relative, shown } = await resolveFile(request, request.params, located);
      if (!resolved.exists) {
        // A row without a file (the disk was changed by hand) is cleaned up, and still a 404.
        await deleteFileRows(deps.db, session.id, folder, relative);
        await deps.documents?.filesRemoved(session.id, folder, relative);
        throw new AppError('FILE_5001', `No file at "${shown}".`);
      }
      try {
        await fs.rm(resolved.real, { recursive: true });
      } catch (err) {
        throw toFileAppError(err, shown);
      }
      await deleteFileRows(deps.db, session.id, folder, relative);
      await deps.documents?.filesRemoved(session.id, folder, relative);
      return { success: true as const };
    },
  );
}
