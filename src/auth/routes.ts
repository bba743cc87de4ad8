/** `/api/v1/auth/*`: register, login, refresh, logout, me. */
import { z } from 'zod';
import { API_PREFIX, type PulpFastify } from '../http/server.js';
import type { AuthService } from './auth-service.js';
import type { RateLimit } from '../limits/rate-limits.js';
import { requireUser, userOf } from './request-user.js';

export const UserSchema = z.object({
  id: z.string(),
  email: z.string(),
  display_name: z.string().nullable(),
  role: z.enum(['admin', 'user']),
});
export const TokenPairSchema = z.object({
  access_token: z.string(),
  refresh_token: z.string(),
  token_type: z.literal('bearer'),
  expires_in: z.number().int(),
  user: UserSchema,
});
export const RegisterBodySchema = z.object({
  email: z.email().max(320),
  password: z.string().min(8).max(128),
  display_name: z.string().trim().min(1).max(100).optional(),
});
export const LoginBodySchema = z.object({ email: z.string().min(1).max(320), password: z.string().min(1).max(128) });
export const RefreshBodySchema = z.object({ refresh_token: z.string().min(1).max(512) });

/** `limiter` counts attempts per client IP (login, register, refresh). */
export function registerAuthRoutes(app: PulpFastify, auth: AuthService, limiter: RateLimit): void {
  const tags = ['auth'];
  const limited = async (request: { ip: string }) => limiter.hit(request.ip);

  app.post(
    `${API_PREFIX}/auth/register`,
    { schema: { tags, body: RegisterBodySchema, response: { 201: TokenPairSchema } }, onRequest: limited },
    async (request, reply) => reply.code(201).send(await auth.register(request.body)),
  );
  app.post(
    `${API_PREFIX}/auth/login`,
    { schema: { tags, body: LoginBodySchema, response: { 200: TokenPairSchema } }, onRequest: limited },
    async (request) => auth.login(request.body),
  );
  app.post(
    `${API_PREFIX}/auth/refresh`,
    { schema: { tags, body: RefreshBodySchema, response: { 200: TokenPairSchema } }, onRequest: limited },
    async (request) => auth.refresh(request.body.refresh_token),
  );
  app.post(`${API_PREFIX}/auth/logout`, { schema: { tags, body: RefreshBodySchema } }, async (request, reply) => {
    await auth.logout(request.body.refresh_token);
    return reply.code(204).send();
  });
  app.get(
    `${API_PREFIX}/auth/me`,
    { schema: { tags, security: [{ bearer: [] }], response: { 200: UserSchema } }, onRequest: requireUser((t) => auth.authenticate(t)) },
    async (request) => userOf(request),
  );
}
