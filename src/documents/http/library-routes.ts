/**
 * `/api/v1/libraries`: a user's named document collections. Create, list, read, rename, delete;
 * upload, list, download and delete documents. Another user's library is `RES_3040` (404).
 * Uploads reuse the workspace's streaming receiver and limits; files live in
 * `DATA_DIR/libraries/{id}/`, flat, under the same safe names as session uploads.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import multipart from '@fastify/multipart';
import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { Queryable } from '../../db/database.js';
import { AppError } from '../../errors/app-error.js';
import { API_PREFIX, type PulpFastify } from '../../http/server.js';
import { contentDisposition, contentTypeFor } from '../../workspace/content-type.js';
import { receiveUpload } from '../../workspace/http/upload.js';
import { openInsideForRead, resolveInside, safeUploadName, toFileAppError } from '../../workspace/jail.js';
import type { Documents } from '../documents.js';
import { libraryDocuments } from '../documents-table.js';
import { createLibrary, deleteLibrary, listLibraries, MAX_DOCUMENTS_PER_LIBRARY, ownedLibrary, updateLibrary, type LibraryRow } from './library-store.js';

export interface LibraryRouteDeps {
  db: Queryable;
  documents: Pick<Documents, 'fileStored' | 'libraryDir'>;
  maxUploadBytes: number;
  authenticate: (request: FastifyRequest) => Promise<{ id: string }>;
}

const Params = z.object({ id: z.string().max(64) });
const DocParams = Params.extend({ documentId: z.string().max(64) });
const CreateBody = z.object({ name: z.string().trim().min(1).max(200), description: z.string().max(2000).optional() });
const PatchBody = z.object({ name: z.string().trim().min(1).max(200).optional(), description: z.string().max(2000).optional() });
const StateSchema = {
  conversion: z.object({ status: z.enum(['pending', 'done', 'failed', 'unsupported', 'no_text']), error: z.string().optional() }),
  indexing: z.enum(['pending', 'done', 'failed']).nullable(),
};
const DocumentSchema = z.object({ id: z.string(), filename: z.string(), size: z.number().int(), pages: z.number().int().nullable(), chunks: z.number().int(), uploaded_at: z.string(), ...StateSchema });
const LibrarySchema = z.object({ id: z.string(), name: z.string(), description: z.string(), documents: z.number().int(), created_at: z.string(), updated_at: z.string() });
const LibraryDetailSchema = LibrarySchema.extend({ files: z.array(DocumentSchema) });

const show = (l: LibraryRow) => ({ id: l.id, name: l.name, description: l.description, documents: l.documents, created_at: l.created_at.toISOString(), updated_at: l.updated_at.toISOString() });

export async function registerLibraryRoutes(app: PulpFastify, deps: LibraryRouteDeps): Promise<void> {
  await app.register(async (scope) => {
    await scope.register(multipart, { limits: { fileSize: deps.maxUploadBytes, files: 1 } });
    registerInScope(scope, deps);
  });
}

function registerInScope(app: PulpFastify, deps: LibraryRouteDeps): void {
  const base = `${API_PREFIX}/libraries`;
  const tags = ['libraries'];
  const security = [{ bearer: [] }];
  const { db } = deps;
  const documentOf = async (libraryId: string, documentId: string) => {
    const doc = (await libraryDocuments(db, libraryId)).find((d) => d.id === documentId);
    if (!doc) throw new AppError('RES_3041', 'Document not found.');
    return doc;
  };

  app.post(base, { schema: { tags, security, body: CreateBody, response: { 201: LibrarySchema } } }, async (request, reply) => {
    const user = await deps.authenticate(request);
    reply.code(201);
    return show(await createLibrary(db, user.id, request.body.name, request.body.description ?? ''));
  });

  app.get(base, { schema: { tags, security, response: { 200: z.object({ libraries: z.array(LibrarySchema) }) } } }, async (request) => {
    const user = await deps.authenticate(request);
    return { libraries: (await listLibraries(db, user.id)).map(show) };
  });

  app.get(`${base}/:id`, { schema: { tags, security, params: Params, response: { 200: LibraryDetailSchema } } }, async (request) => {
    const user = await deps.authenticate(request);
    const library = await ownedLibrary(db, user.id, request.params.id);
    return { ...show(library), files: await libraryDocuments(db, library.id) };
  });

  app.patch(`${base}/:id`, { schema: { tags, security, params: Params, body: PatchBody, response: { 200: LibrarySchema } } }, async (request) => {
    const user = await deps.authenticate(request);
    return show(await updateLibrary(db, user.id, request.params.id, request.body));
  });

  app.delete(`${base}/:id`, { schema: { tags, security, params: Params, response: { 200: z.object({ success: z.literal(true) }) } } }, async (request) => {
    const user = await deps.authenticate(request);
    await deleteLibrary(db, user.id, request.params.id);
    await fs.rm(deps.documents.libraryDir(request.params.id), { recursive: true, force: true });
    return { success: true as const };
  });

  app.post(`${base}/:id/documents`, { schema: { tags, security, params: Params, consumes: ['multipart/form-data'], response: { 201: DocumentSchema } } }, async (request, reply) => {
    const user = await deps.authenticate(request);
    const library = await ownedLibrary(db, user.id, request.params.id);
    if (library.documents >= MAX_DOCUMENTS_PER_LIBRARY) throw new AppError('RES_3042', `A library holds at most ${MAX_DOCUMENTS_PER_LIBRARY} documents.`);
    const dir = deps.documents.libraryDir(library.id);
    await fs.mkdir(dir, { recursive: true, mode: 0o700 });
    const dirReal = await fs.realpath(dir);
    const upload = await receiveUpload(request, dirReal, dirReal, deps.maxUploadBytes);
    try {
      const name = safeUploadName(upload.filename);
      const target = await resolveInside(dirReal, [name]);
      await fs.rename(upload.tempPath, target.real);
      await deps.documents.fileStored({ libraryId: library.id }, 'library', name, upload.size);
      const doc = (await libraryDocuments(db, library.id)).find((d) => d.filename === name);
      if (!doc) throw new AppError('RES_3041', 'Document not found.');
      reply.code(201);
      return doc;
    } catch (err) {
      throw toFileAppError(err, upload.filename);
    } finally {
      await fs.rm(upload.tempPath, { force: true });
    }
  });

  app.get(`${base}/:id/documents/:documentId/content`, { schema: { tags, security, params: DocParams } }, async (request, reply) => {
    const user = await deps.authenticate(request);
    const library = await ownedLibrary(db, user.id, request.params.id);
    const doc = await documentOf(library.id, request.params.documentId);
    const dirReal = await fs.realpath(deps.documents.libraryDir(library.id)).catch(() => undefined);
    const resolved = dirReal ? await resolveInside(dirReal, [doc.filename]) : undefined;
    if (!dirReal || !resolved?.exists) throw new AppError('FILE_5001', `No file "${doc.filename}".`);
    const handle = await openInsideForRead(resolved.real, dirReal);
    const stat = await handle.stat();
    return reply
      .header('content-type', contentTypeFor(doc.filename))
      .header('content-length', stat.size)
      .header('content-disposition', contentDisposition(path.basename(doc.filename), 'attachment'))
      .header('x-content-type-options', 'nosniff')
      .header('content-security-policy', "default-src 'none'; sandbox")
      .send(handle.createReadStream());
  });

  app.delete(`${base}/:id/documents/:documentId`, { schema: { tags, security, params: DocParams, response: { 200: z.object({ success: z.literal(true) }) } } }, async (request) => {
    const user = await deps.authenticate(request);
    const library = await ownedLibrary(db, user.id, request.params.id);
    const doc = await documentOf(library.id, request.params.documentId);
    await db.query('DELETE FROM documents WHERE id = $1 AND library_id = $2', [doc.id, library.id]);
    const dirReal = await fs.realpath(deps.documents.libraryDir(library.id)).catch(() => undefined);
    if (dirReal) {
      const resolved = await resolveInside(dirReal, [doc.filename]);
      if (resolved.exists) await fs.rm(resolved.real, { force: true });
    }
    return { success: true as const };
  });
}
