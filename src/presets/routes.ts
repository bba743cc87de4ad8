/** `/api/v1/presets` REST routes: a user's named bundles of session settings. */
import { z } from 'zod';
import { requireUser, userOf } from '../auth/request-user.js';
import type { Authenticate } from '../auth/types.js';
import type { Database } from '../db/database.js';
import { AppError } from '../errors/app-error.js';
import { API_PREFIX, type PulpFastify } from '../http/server.js';
import { checkSettings, type SettingsOffer } from '../sessions/settings.js';
import { deletePreset, findOwnedPreset, insertPreset, listPresets, updatePreset, type PresetRow } from './preset-store.js';
import { CreatePresetBodySchema, PresetParamsSchema, PresetSchema, UpdatePresetBodySchema, type Preset } from './schemas.js';

export interface PresetRouteDeps {
  db: Database;
  authenticate: Authenticate;
  /** What a preset may name: the offered models and configured MCP servers, as for a session. */
  offer: SettingsOffer;
  /** Throws `RES_3040` unless every id is one of the user's libraries. */
  checkLibraries: (userId: string, libraryIds: readonly string[]) => Promise<void>;
}

export function toPreset(row: PresetRow): Preset {
  return {
    id: row.id,
    name: row.name,
    instructions: row.instructions,
    model: row.model,
    reasoning_effort: row.reasoning_effort as Preset['reasoning_effort'],
    mcp_config: row.mcp_config,
    library_ids: row.library_ids,
    created_at: row.created_at.toISOString(),
    updated_at: row.updated_at.toISOString(),
  };
}

const notFound = () => new AppError('RES_3020', 'Preset not found.');

export function registerPresetRoutes(app: PulpFastify, deps: PresetRouteDeps): void {
  const { db } = deps;
  const tags = ['presets'];
  const security = [{ bearer: [] }];
  const onRequest = requireUser(deps.authenticate);
  const base = `${API_PREFIX}/presets`;

  app.post(base, { onRequest, schema: { tags, security, body: CreatePresetBodySchema, response: { 201: PresetSchema } } }, async (request, reply) => {
    const userId = userOf(request).id;
    checkSettings(deps.offer, request.body);
    if (request.body.library_ids) await deps.checkLibraries(userId, request.body.library_ids);
    const row = await insertPreset(db, userId, request.body);
    return reply.code(201).send(toPreset(row));
  });

  app.get(base, { onRequest, schema: { tags, security, response: { 200: z.object({ presets: z.array(PresetSchema) }) } } }, async (request) => ({
    presets: (await listPresets(db, userOf(request).id)).map(toPreset),
  }));

  app.get(
    `${base}/:id`,
    { onRequest, schema: { tags, security, params: PresetParamsSchema, response: { 200: PresetSchema } } },
    async (request) => {
      const row = await findOwnedPreset(db, userOf(request).id, request.params.id);
      if (!row) throw notFound();
      return toPreset(row);
    },
  );

  app.patch(
    `${base}/:id`,
    { onRequest, schema: { tags, security, params: PresetParamsSchema, body: UpdatePresetBodySchema, response: { 200: PresetSchema } } },
    async (request) => {
      const userId = userOf(request).id;
      // A missing preset answers 404 before the body's settings are judged.
      if (!(await findOwnedPreset(db, userId, request.params.id))) throw notFound();
      checkSettings(deps.offer, request.body);
      if (request.body.library_ids) await deps.checkLibraries(userId, request.body.library_ids);
      const row = await updatePreset(db, userId, request.params.id, request.body);
      if (!row) throw notFound();
      return toPreset(row);
    },
  );

  app.delete(
    `${base}/:id`,
    { onRequest, schema: { tags, security, params: PresetParamsSchema, response: { 204: z.null() } } },
    async (request, reply) => {
      if (!(await deletePreset(db, userOf(request).id, request.params.id))) throw notFound();
      return reply.code(204).send(null);
    },
  );
}
