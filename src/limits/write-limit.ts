/**
 * The REST side of `USER_WRITES_PER_MIN`: one `preHandler` hook for every route. It runs after a
 * route's own authentication (its `onRequest`) and counts POST/PUT/PATCH/DELETE requests of the
 * signed-in user; requests without a user (login, register, refresh) have the per-IP limit instead.
 * The file routes authenticate inside their handlers, so they call `isWrite` + `admitWrite` there.
 */
import type { PulpFastify } from '../http/server.js';
import type { UserLimits } from './user-limits.js';

const WRITES = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** True for the methods that count as writes. */
export function isWrite(method: string): boolean {
  return WRITES.has(method);
}

/** Registers the hook; call before the routes, so it applies to every one of them. */
export function registerWriteLimit(app: PulpFastify, limits: UserLimits): void {
  if (limits.settings.writesPerMin <= 0) return;
  app.addHook('preHandler', async (request) => {
    if (request.user && isWrite(request.method)) await limits.admitWrite(request.user.id);
  });
}
