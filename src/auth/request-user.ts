/** Puts the authenticated user on `request.user` for routes that need one. */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../errors/app-error.js';
import type { AuthUser, Authenticate } from './types.js';

declare module 'fastify' {
  interface FastifyRequest {
    user: AuthUser | null;
  }
}

/** The token of an `Authorization: Bearer <token>` header, if any. */
export function bearerToken(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match?.[1];
}

/** An onRequest hook that authenticates the caller or answers 401. */
export function requireUser(authenticate: Authenticate) {
  return async (request: FastifyRequest, _reply: FastifyReply): Promise<void> => {
    request.user = await authenticate(bearerToken(request.headers.authorization));
  };
}

/** The user that `requireUser` set; a route without the hook is a programming error. */
export function userOf(request: FastifyRequest): AuthUser {
  if (!request.user) throw new AppError('AUTH_1001');
  return request.user;
}
