/**
 * `METRICS_TOKEN`: when set, `/metrics` answers only `Authorization: Bearer <token>`. The
 * comparison hashes both sides first, so it takes the same time whatever the length or the first
 * wrong character of what was sent.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { bearerToken } from '../auth/request-user.js';
import { AppError } from '../errors/app-error.js';

const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();

/** True when `presented` is exactly `expected`, compared in constant time. */
export function tokenMatches(presented: string, expected: string): boolean {
  return timingSafeEqual(digest(presented), digest(expected));
}

/** An onRequest hook: 401 `AUTH_1001` without a bearer token, 401 `AUTH_1002` with another one. */
export function requireMetricsToken(expected: string) {
  return async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const presented = bearerToken(request.headers.authorization);
    if (presented !== undefined && tokenMatches(presented, expected)) return;
    void reply.header('www-authenticate', 'Bearer realm="metrics"');
    if (presented === undefined) throw new AppError('AUTH_1001', 'The metrics need the METRICS_TOKEN as a bearer token.');
    throw new AppError('AUTH_1002', 'Wrong metrics token.');
  };
}
