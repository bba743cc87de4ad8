/** `/api/v1/api-keys`: create (the secret is shown once), list, revoke. Signed-in users only, never with a key. */
import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { Database } from '../db/database.js';
import { AppError } from '../errors/app-error.js';
import { API_PREFIX, type PulpFastify } from '../http/server.js';
import { createApiKey, isApiKey, listApiKeys, revokeApiKey, type ApiKey } from './api-keys.js';
import { bearerToken, requireUser, userOf } from './request-user.js';
import type { Authenticate } from './types.js';

/** The furthest expiry a key may have. */
const MAX_LIFETIME_MS = 10 * 365 * 24 * 3600 * 1000;

export const ApiKeySchema = z.object({
  id: z.string(),
  name: z.string(),
  prefix: z.string(),
  created_at: z.string(),
  last_used_at: z.string().nullable(),
  expires_at: z.string().nullable(),
});
const CreateBodySchema = z
  .object({ name: z.string().trim().min(1).max(100), expires_at: z.iso.datetime({ offset: true }).nullable().optional() })
  .strict();
const ParamsSchema = z.object({ id: z.string().min(1).max(100) });
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const wire = (k: ApiKey) => ({
  id: k.id,
  name: k.name,
  prefix: k.prefix,
  created_at: k.created_at.toISOString(),
  last_used_at: k.last_used_at?.toISOString() ?? null,
  expires_at: k.expires_at?.toISOString() ?? null,
});

/** Keys are managed with a signed-in session: a leaked key cannot mint keys that outlive its revocation. */
async function refuseApiKeyCaller(request: FastifyRequest): Promise<void> {
  const token = bearerToken(request.headers.authorization);
  if (token && isApiKey(token)) throw new AppError('AUTH_1004', 'API keys cannot manage API keys; sign in instead.');
}

export function registerApiKeyRoutes(
  app: PulpFastify,
  deps: { db: Database; authenticate: Authenticate; enabled: boolean; now?: () => number },
): void {
  const tags = ['auth'];
  const security = [{ bearer: [] }];
  const now = deps.now ?? Date.now;
  const requireEnabled = async () => {
    if (!deps.enabled) throw new AppError('RES_3001', 'API keys need accounts: this server runs with AUTH_MODE=none.');
  };
  const onRequest = [requireEnabled, requireUser(deps.authenticate), refuseApiKeyCaller];
  const base = `${API_PREFIX}/api-keys`;

  app.post(
    base,
    { onRequest, schema: { tags, security, body: CreateBodySchema, response: { 201: ApiKeySchema.extend({ key: z.string() }) } } },
    async (request, reply) => {
      const expiresAt = request.body.expires_at ? new Date(request.body.expires_at) : null;
      if (expiresAt && (expiresAt.getTime() <= now() || expiresAt.getTime() > now() + MAX_LIFETIME_MS)) {
        throw new AppError('VAL_2001', 'Validation failed: expires_at: must be in the future and within 10 years', [
          { field: 'expires_at', message: 'must be in the future and within 10 years' },
        ]);
      }
      const created = await createApiKey(deps.db, userOf(request).id, { name: request.body.name, expiresAt });
      return reply.code(201).send({ ...wire(created), key: created.key });
    },
  );
  app.get(
    base,
    { onRequest, schema: { tags, security, response: { 200: z.object({ api_keys: z.array(ApiKeySchema) }) } } },
    async (request) => ({ api_keys: (await listApiKeys(deps.db, userOf(request).id)).map(wire) }),
  );
  app.delete(
    `${base}/:id`,
    { onRequest, schema: { tags, security, params: ParamsSchema, response: { 204: z.null() } } },
    async (request, reply) => {
      const { id } = request.params;
      if (!UUID.test(id) || !(await revokeApiKey(deps.db, userOf(request).id, id))) throw new AppError('RES_3001', 'API key not found.');
      return reply.code(204).send(null);
    },
  );
}
