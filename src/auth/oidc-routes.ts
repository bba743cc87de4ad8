/**
 * `GET /api/v1/auth/oidc/login` (302 to the provider) and `GET /api/v1/auth/oidc/callback`
 * (302 to `/#oidc=<base64url JSON token pair>`). The state is bound to the browser with a
 * short-lived HttpOnly cookie; the verifier and nonce stay on the server.
 */
import type { FastifyRequest } from 'fastify';
import { AppError } from '../errors/app-error.js';
import { API_PREFIX, type PulpFastify } from '../http/server.js';
import type { OidcLogin } from './oidc.js';
import { OIDC_LOGIN_TTL_MS } from './oidc.js';
import type { RateLimit } from '../limits/rate-limits.js';

const COOKIE = 'pulp_oidc_state';
const COOKIE_PATH = `${API_PREFIX}/auth/oidc`;
/** Longer query strings are not a provider's answer. */
const MAX_QUERY = 8192;

function cookieOf(request: FastifyRequest, name: string): string | undefined {
  const header = request.headers.cookie;
  if (!header || header.length > 8192) return undefined;
  for (const part of header.split(';')) {
    const [key, ...value] = part.trim().split('=');
    if (key === name) return value.join('=');
  }
  return undefined;
}

export function registerOidcRoutes(app: PulpFastify, deps: { oidc: OidcLogin; publicUrl: string; limiter: RateLimit }): void {
  const secure = deps.publicUrl.startsWith('https:') ? '; Secure' : '';
  const cookie = (value: string, maxAgeS: number) => `${COOKIE}=${value}; Path=${COOKIE_PATH}; HttpOnly; SameSite=Lax; Max-Age=${maxAgeS}${secure}`;
  const limited = async (request: { ip: string }) => deps.limiter.hit(request.ip);

  app.get(`${API_PREFIX}/auth/oidc/login`, { schema: { hide: true }, onRequest: limited }, async (_request, reply) => {
    const { url, state } = await deps.oidc.start();
    return reply.header('set-cookie', cookie(state, OIDC_LOGIN_TTL_MS / 1000)).header('cache-control', 'no-store').redirect(url, 302);
  });

  app.get(`${API_PREFIX}/auth/oidc/callback`, { schema: { hide: true }, onRequest: limited }, async (request, reply) => {
    const query = request.url.includes('?') ? request.url.slice(request.url.indexOf('?') + 1) : '';
    reply.header('set-cookie', cookie('', 0)).header('cache-control', 'no-store');
    if (query.length > MAX_QUERY) throw new AppError('AUTH_1008', 'The sign-in answer is too long.');
    const pair = await deps.oidc.finish(query, cookieOf(request, COOKIE));
    const fragment = Buffer.from(JSON.stringify(pair)).toString('base64url');
    return reply.header('referrer-policy', 'no-referrer').redirect(`${deps.publicUrl}/#oidc=${fragment}`, 302);
  });
}
