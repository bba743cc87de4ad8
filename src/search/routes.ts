/** `GET /api/v1/search`: the caller's own session titles and message text, ranked and paged. */
import { z } from 'zod';
import { requireUser, userOf } from '../auth/request-user.js';
import type { Authenticate } from '../auth/types.js';
import type { Queryable } from '../db/database.js';
import { AppError } from '../errors/app-error.js';
import { API_PREFIX, type PulpFastify } from '../http/server.js';
import { decodeCursor, encodeCursor } from './cursor.js';
import { searchOwnText } from './search-store.js';

/** The longest query accepted, in characters. */
export const MAX_QUERY_CHARS = 200;
export const MAX_RESULTS = 50;
const DEFAULT_RESULTS = 20;
/** Cursors this server makes are under 100 characters; anything much longer is not one. */
const MAX_CURSOR_CHARS = 200;

const SearchQuerySchema = z.object({
  q: z.string().optional(),
  limit: z.coerce.number().int().min(1).max(MAX_RESULTS).default(DEFAULT_RESULTS),
  cursor: z.string().max(MAX_CURSOR_CHARS).optional(),
});

export const SearchResultSchema = z.object({
  session_id: z.string(),
  title: z.string().nullable(),
  archived: z.boolean(),
  message_id: z.string().nullable(),
  role: z.enum(['user', 'assistant']).nullable(),
  created_at: z.string(),
  snippet: z.string(),
  highlights: z.array(z.tuple([z.number().int(), z.number().int()])),
});

const SearchAnswerSchema = z.object({ results: z.array(SearchResultSchema), next_cursor: z.string().nullable() });

export interface SearchRouteDeps {
  db: Queryable;
  authenticate: Authenticate;
  /** The text search configuration the vectors are built with (`SEARCH_LANGUAGE`). */
  language: string;
}

function queryError(message: string): AppError {
  return new AppError('VAL_2020', message, [{ field: 'q', message }]);
}

export function registerSearchRoutes(app: PulpFastify, deps: SearchRouteDeps): void {
  app.get(
    `${API_PREFIX}/search`,
    {
      onRequest: requireUser(deps.authenticate),
      schema: { tags: ['search'], security: [{ bearer: [] }], querystring: SearchQuerySchema, response: { 200: SearchAnswerSchema } },
    },
    async (request) => {
      const { limit, cursor } = request.query;
      const q = (request.query.q ?? '').trim();
      if (q === '') throw queryError('Type something to search for.');
      if (q.length > MAX_QUERY_CHARS) throw queryError(`The search query is longer than ${MAX_QUERY_CHARS} characters.`);
      const hits = await searchOwnText(deps.db, {
        userId: userOf(request).id,
        language: deps.language,
        query: q,
        // One more than asked tells whether another page exists.
        limit: limit + 1,
        ...(cursor !== undefined ? { after: decodeCursor(cursor) } : {}),
      });
      const page = hits.slice(0, limit);
      const last = page.at(-1);
      return {
        results: page.map((h) => ({
          session_id: h.sessionId,
          title: h.title,
          archived: h.archived,
          message_id: h.messageId,
          role: h.role,
          created_at: h.createdAt.toISOString(),
          snippet: h.snippet.text,
          highlights: h.snippet.highlights,
        })),
        next_cursor: hits.length > limit && last ? encodeCursor(last.position) : null,
      };
    },
  );
}
