/**
 * The REST routes of a session's files, the user's libraries and document search. They
 * authenticate in their handlers (multipart bodies), after the write-limit hook has run, so the
 * write limit is counted here.
 */
import type { FastifyRequest } from 'fastify';
import type { AuthService } from '../auth/auth-service.js';
import { bearerToken } from '../auth/request-user.js';
import type { AuthUser } from '../auth/types.js';
import type { Database } from '../db/database.js';
import type { Documents } from '../documents/documents.js';
import { registerLibraryRoutes } from '../documents/http/library-routes.js';
import { registerDocumentSearchRoutes } from '../documents/http/search-routes.js';
import type { PulpFastify } from '../http/server.js';
import type { UserLimits } from '../limits/user-limits.js';
import { isWrite } from '../limits/write-limit.js';
import { findOwnedSession } from '../sessions/session-store.js';
import { registerFileRoutes } from '../workspace/http/file-routes.js';
import type { Workspace } from '../workspace/workspace.js';

export interface DocumentRouteDeps {
  db: Database;
  auth: AuthService;
  userLimits: UserLimits;
  workspace: Workspace;
  documents: Documents;
  maxUploadBytes: number;
}

export async function registerDocumentRoutes(app: PulpFastify, deps: DocumentRouteDeps): Promise<void> {
  const { db, auth, userLimits, workspace, documents, maxUploadBytes } = deps;
  const restUser = async (request: FastifyRequest): Promise<AuthUser> => {
    const user = await auth.authenticate(bearerToken(request.headers.authorization));
    if (isWrite(request.method)) await userLimits.admitWrite(user.id);
    return user;
  };
  const findSession = (userId: string, publicId: string) => findOwnedSession(db, userId, publicId);
  await registerFileRoutes(app, { db, workspace, maxUploadBytes, authenticate: restUser, findOwnedSession: findSession, documents });
  await registerLibraryRoutes(app, { db, documents, maxUploadBytes, authenticate: restUser });
  registerDocumentSearchRoutes(app, { db, documents, authenticate: restUser, findOwnedSession: findSession });
}
