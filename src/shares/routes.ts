/**
 * Share links: `POST/GET /api/v1/sessions/{id}/shares`, `DELETE …/shares/{share_id}` for the
 * owner; `GET /api/v1/shares/{token}` (the snapshot as JSON) and `GET /share/{token}` (the page)
 * for anyone with the link, without login. `ALLOW_SHARING=false` refuses making and opening
 * links (RES_3030); listing and revoking still work.
 */
import type { FastifyReply } from 'fastify';
import { z } from 'zod';
import { requireUser, userOf } from '../auth/request-user.js';
import type { Authenticate } from '../auth/types.js';
import type { Database } from '../db/database.js';
import { AppError } from '../errors/app-error.js';
import { API_PREFIX, type PulpFastify } from '../http/server.js';
import { SessionParamsSchema } from '../sessions/schemas.js';
import { findOwnedSession } from '../sessions/session-store.js';
import { activePath, readTree } from '../transfer/session-tree.js';
import { createShare, findSharedSnapshot, listShares, revokeShare, type ShareRow } from './share-store.js';
import { missingSharePage, SHARE_PAGE_CSP, sharePage } from './share-page.js';
import { ShareSnapshotSchema, takeSnapshot } from './snapshot.js';

export interface ShareRouteDeps {
  db: Database;
  authenticate: Authenticate;
  /** `ALLOW_SHARING`. */
  enabled: boolean;
  now?: () => Date;
}

const ShareSchema = z.object({ id: z.string(), created_at: z.string(), title: z.string().nullable(), message_count: z.number().int() });
const CreatedShareSchema = ShareSchema.extend({ token: z.string(), url: z.string() });
const TokenParamsSchema = z.object({ token: z.string().max(100) });
const ShareParamsSchema = SessionParamsSchema.extend({ share_id: z.string().max(100) });

const OFF = 'Sharing is turned off on this server (ALLOW_SHARING=false).';
const MISSING = 'This share link does not exist or was revoked.';

const toShare = (r: ShareRow) => ({ id: r.id, created_at: r.created_at.toISOString(), title: r.title, message_count: r.message_count });

/** Headers of every shared view: no caching (a revoke takes effect at once), no referrer (the token is in the URL). */
function privateHeaders(reply: FastifyReply): FastifyReply {
  return reply
    .header('cache-control', 'no-store')
    .header('referrer-policy', 'no-referrer')
    .header('x-robots-tag', 'noindex')
    .header('x-content-type-options', 'nosniff');
}

export function registerShareRoutes(app: PulpFastify, deps: ShareRouteDeps): void {
  const { db } = deps;
  const onRequest = requireUser(deps.authenticate);
  const now = deps.now ?? (() => new Date());
  const tags = ['sessions'];
  const security = [{ bearer: [] }];
  const owned = async (userId: string, id: string) => {
    const session = await findOwnedSession(db, userId, id);
    if (!session) throw new AppError('SES_4001', 'Session not found.');
    return session;
  };

  app.post(
    `${API_PREFIX}/sessions/:id/shares`,
    { onRequest, schema: { tags, security, params: SessionParamsSchema, response: { 201: CreatedShareSchema } } },
    async (request, reply) => {
      const user = userOf(request);
      const session = await owned(user.id, request.params.id);
      if (!deps.enabled) throw new AppError('RES_3030', OFF);
      const snapshot = takeSnapshot(session, activePath(await readTree(db, session.id)), now());
      const share = await createShare(db, user.id, session.id, snapshot);
      return reply.code(201).send({ ...toShare(share), token: share.token, url: `/share/${share.token}` });
    },
  );

  app.get(
    `${API_PREFIX}/sessions/:id/shares`,
    { onRequest, schema: { tags, security, params: SessionParamsSchema, response: { 200: z.object({ shares: z.array(ShareSchema) }) } } },
    async (request) => {
      const user = userOf(request);
      const session = await owned(user.id, request.params.id);
      return { shares: (await listShares(db, user.id, session.id)).map(toShare) };
    },
  );

  app.delete(
    `${API_PREFIX}/sessions/:id/shares/:share_id`,
    { onRequest, schema: { tags, security, params: ShareParamsSchema, response: { 200: z.object({ success: z.literal(true) }) } } },
    async (request) => {
      const user = userOf(request);
      const session = await owned(user.id, request.params.id);
      if (!(await revokeShare(db, user.id, session.id, request.params.share_id))) throw new AppError('RES_3031', 'Share link not found.');
      return { success: true as const };
    },
  );

  app.get(
    `${API_PREFIX}/shares/:token`,
    { schema: { tags, params: TokenParamsSchema, response: { 200: ShareSnapshotSchema } } },
    async (request, reply) => {
      privateHeaders(reply);
      if (!deps.enabled) throw new AppError('RES_3030', OFF);
      const snapshot = await findSharedSnapshot(db, request.params.token);
      if (!snapshot) throw new AppError('RES_3031', MISSING);
      return snapshot;
    },
  );

  app.get('/share/:token', { schema: { hide: true, params: TokenParamsSchema } }, async (request, reply) => {
    privateHeaders(reply).header('content-security-policy', SHARE_PAGE_CSP).type('text/html; charset=utf-8');
    if (!deps.enabled) return reply.code(403).send(missingSharePage(OFF));
    const snapshot = await findSharedSnapshot(db, request.params.token);
    if (!snapshot) return reply.code(404).send(missingSharePage(MISSING));
    return reply.send(sharePage(snapshot));
  });
}
