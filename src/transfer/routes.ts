/**
 * `GET /api/v1/sessions/{id}/export?format=json|markdown` and `POST /api/v1/sessions/import`
 * (a JSON body or a multipart `file`, up to IMPORT_MAX_BYTES). The import routes live in their own
 * plugin scope: its JSON parser reads bytes (so bad UTF-8 is refused, not replaced) and the larger
 * body limit applies to it alone.
 */
import multipart from '@fastify/multipart';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { requireUser, userOf } from '../auth/request-user.js';
import type { Authenticate } from '../auth/types.js';
import { AppError } from '../errors/app-error.js';
import { sendError } from '../http/error-envelope.js';
import { API_PREFIX, type PulpFastify } from '../http/server.js';
import { SessionParamsSchema } from '../sessions/schemas.js';
import { findOwnedSession } from '../sessions/session-store.js';
import { contentDisposition } from '../workspace/content-type.js';
import { readImportFile } from './detect.js';
import { prepareImport, writeImport, type ImportDeps } from './import-writer.js';
import { toMarkdown } from './markdown.js';
import { toPulpDocument } from './pulp-format.js';
import { activePath, readContext, readTree } from './session-tree.js';

export interface TransferRouteDeps extends ImportDeps {
  authenticate: Authenticate;
  /** `IMPORT_MAX_BYTES`. */
  importMaxBytes: number;
  debug: boolean;
  now?: () => Date;
}

const ExportQuerySchema = z.object({ format: z.enum(['json', 'markdown']).default('json') });
const ImportResultSchema = z.object({ session_ids: z.array(z.string()) });

/**
 * The parsed file travels under a symbol key: the server-wide body check (which stops at depth
 * 64) sees nothing, and the import's own checks name the conversation and message instead.
 */
const PARSED = Symbol('import file');
type ParsedBody = { [PARSED]: unknown };

/** `bytes` as JSON text in UTF-8 (a leading BOM allowed). Throws VAL_2031. */
export function decodeJson(bytes: Buffer): unknown {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new AppError('VAL_2031', 'The import file is not valid UTF-8 text.');
  }
  try {
    // `__proto__` keys are dropped, so no object read from a file can carry another prototype.
    return JSON.parse(text, (key, value: unknown) => (key === '__proto__' ? undefined : value));
  } catch (err) {
    throw new AppError('VAL_2031', `The import file is not valid JSON (${(err as Error).message}).`);
  }
}

/** `pulp-trip-to-lisbon-2026-12-06.json`: ASCII only, whatever the title holds. */
export function exportFileName(title: string | null, now: Date, extension: 'json' | 'md'): string {
  const slug = (title ?? '')
    .normalize('NFKD')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 60)
    .replace(/-+$/, '');
  return `pulp-${slug || 'chat'}-${now.toISOString().slice(0, 10)}.${extension}`;
}

export async function registerTransferRoutes(app: PulpFastify, deps: TransferRouteDeps): Promise<void> {
  const onRequest = requireUser(deps.authenticate);
  const now = deps.now ?? (() => new Date());
  const tags = ['sessions'];
  const security = [{ bearer: [] }];

  app.get(
    `${API_PREFIX}/sessions/:id/export`,
    { onRequest, schema: { tags, security, params: SessionParamsSchema, querystring: ExportQuerySchema } },
    async (request, reply) => {
      const session = await findOwnedSession(deps.db, userOf(request).id, request.params.id);
      if (!session) throw new AppError('SES_4001', 'Session not found.');
      const at = now();
      const tree = await readTree(deps.db, session.id);
      if (request.query.format === 'markdown') {
        return reply
          .type('text/markdown; charset=utf-8')
          .header('content-disposition', contentDisposition(exportFileName(session.title, at, 'md')))
          .send(toMarkdown(session.title, activePath(tree), at));
      }
      const [context, instructions] = await Promise.all([
        readContext(deps.db, session.id),
        deps.db.query<{ instructions: string | null }>(`SELECT instructions FROM sessions WHERE id = $1`, [session.id]),
      ]);
      const doc = toPulpDocument(session, instructions.rows[0]?.instructions ?? null, tree, context, at);
      return reply
        .type('application/json; charset=utf-8')
        .header('content-disposition', contentDisposition(exportFileName(session.title, at, 'json')))
        .send(JSON.stringify(doc, null, 2));
    },
  );

  await app.register(async (scope) => {
    const tooLarge = () => new AppError('VAL_2030', `The import file is larger than ${deps.importMaxBytes} bytes (IMPORT_MAX_BYTES).`);
    scope.setErrorHandler((err: unknown, request: FastifyRequest, reply: FastifyReply) => {
      const code = (err as { code?: unknown }).code;
      const mapped = code === 'FST_ERR_CTP_BODY_TOO_LARGE' || code === 'FST_REQ_FILE_TOO_LARGE' ? tooLarge() : err;
      return sendError(mapped, request, reply, deps.debug);
    });
    scope.removeContentTypeParser('application/json');
    scope.addContentTypeParser('application/json', { parseAs: 'buffer', bodyLimit: deps.importMaxBytes }, (_request, body, done) => {
      try {
        done(null, { [PARSED]: decodeJson(body as Buffer) } satisfies ParsedBody);
      } catch (err) {
        done(err as Error, undefined);
      }
    });
    await scope.register(multipart, { limits: { fileSize: deps.importMaxBytes, files: 1, fields: 10, parts: 11 } });

    scope.post(
      `${API_PREFIX}/sessions/import`,
      {
        onRequest,
        bodyLimit: deps.importMaxBytes,
        schema: { tags, security, consumes: ['application/json', 'multipart/form-data'], response: { 201: ImportResultSchema } },
      },
      async (request, reply) => {
        const file = await readFile(request);
        const { conversations } = readImportFile(file);
        const prepared = await prepareImport(conversations, deps);
        const ids = await writeImport(deps, userOf(request).id, prepared);
        request.log.info({ sessions: ids.length }, 'conversations imported');
        return reply.code(201).send({ session_ids: ids });
      },
    );
  });
}

/** The JSON of the request: the body itself, or the multipart `file` field. */
async function readFile(request: FastifyRequest): Promise<unknown> {
  if (!request.isMultipart()) {
    const body = request.body as ParsedBody | undefined;
    if (!body || !(PARSED in body)) throw new AppError('VAL_2035', 'Send the file as a JSON body or in the multipart field "file".');
    return body[PARSED];
  }
  for await (const part of request.parts()) {
    if (part.type === 'file' && part.fieldname === 'file') return decodeJson(await part.toBuffer());
    if (part.type === 'file') part.file.resume();
  }
  throw new AppError('VAL_2035', 'The upload has no file: send it in the multipart field "file".');
}
