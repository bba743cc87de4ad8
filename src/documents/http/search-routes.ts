/**
 * `GET /api/v1/sessions/:id/documents/search?q=` (the knowledge search over the session's
 * documents and attached libraries) and `GET|PUT /api/v1/sessions/:id/libraries` (which
 * libraries a session searches). A foreign session is `SES_4001`, a foreign library `RES_3040`.
 */
import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { Queryable } from '../../db/database.js';
import { AppError } from '../../errors/app-error.js';
import { API_PREFIX, type PulpFastify } from '../../http/server.js';
import type { FindOwnedSession } from '../../sessions/types.js';
import type { Documents } from '../documents.js';
import { attachLibraries, sessionLibraryIds } from './library-store.js';

export interface SearchRouteDeps {
  db: Queryable;
  documents: Pick<Documents, 'search'>;
  authenticate: (request: FastifyRequest) => Promise<{ id: string }>;
  findOwnedSession: FindOwnedSession;
}

const Params = z.object({ id: z.string().max(64) });
const SearchQuery = z.object({ q: z.string().max(2000), limit: z.coerce.number().int().min(1).max(20).optional() });
const HitSchema = z.object({
  file: z.string(),
  page: z.number().int().nullable(),
  section: z.string().nullable(),
  text: z.string(),
  score: z.number(),
  source: z.union([
    z.object({ kind: z.literal('session'), folder: z.string(), path: z.string() }),
    z.object({ kind: z.literal('library'), library_id: z.string(), library: z.string(), document_id: z.string() }),
  ]),
});
export const SearchResultSchema = z.object({ query: z.string(), results: z.array(HitSchema), count: z.number().int() });
const LibraryIdsSchema = z.object({ library_ids: z.array(z.string().max(64)).max(50) });

export function registerDocumentSearchRoutes(app: PulpFastify, deps: SearchRouteDeps): void {
  const tags = ['documents'];
  const security = [{ bearer: [] }];
  const sessionOf = async (request: FastifyRequest, publicId: string) => {
    const user = await deps.authenticate(request);
    const session = await deps.findOwnedSession(user.id, publicId);
    if (!session) throw new AppError('SES_4001', 'Session not found.');
    return { user, session };
  };

  app.get(
    `${API_PREFIX}/sessions/:id/documents/search`,
    { schema: { tags, security, params: Params, querystring: SearchQuery, response: { 200: SearchResultSchema } } },
    async (request) => {
      const { session } = await sessionOf(request, request.params.id);
      const q = request.query.q.trim();
      if (!q) throw new AppError('VAL_2050', 'Give the search words in q.', [{ field: 'q', message: 'is empty' }]);
      const results = await deps.documents.search(session, q, request.query.limit ?? 8);
      return { query: q, results, count: results.length };
    },
  );

  app.get(`${API_PREFIX}/sessions/:id/libraries`, { schema: { tags, security, params: Params, response: { 200: LibraryIdsSchema } } }, async (request) => {
    const { session } = await sessionOf(request, request.params.id);
    return { library_ids: await sessionLibraryIds(deps.db, session.id) };
  });

  app.put(
    `${API_PREFIX}/sessions/:id/libraries`,
    { schema: { tags, security, params: Params, body: LibraryIdsSchema, response: { 200: LibraryIdsSchema } } },
    async (request) => {
      const { user, session } = await sessionOf(request, request.params.id);
      await attachLibraries(deps.db, user.id, session.id, request.body.library_ids);
      return { library_ids: await sessionLibraryIds(deps.db, session.id) };
    },
  );
}
