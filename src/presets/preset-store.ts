/**
 * SQL for `presets`. Every statement is filtered by the owner: another user's preset is
 * indistinguishable from a missing one.
 */
import type { Database, Queryable } from '../db/database.js';
import { AppError } from '../errors/app-error.js';
import type { CreatePresetBody, UpdatePresetBody } from './schemas.js';

/** Presets one user may keep. */
export const MAX_PRESETS_PER_USER = 100;

export interface PresetRow {
  id: string;
  name: string;
  instructions: string;
  model: string | null;
  reasoning_effort: string | null;
  mcp_config: string[] | null;
  /** Only the libraries that still exist and are the owner's, in the order saved. */
  library_ids: string[];
  created_at: Date;
  updated_at: Date;
}

// A deleted library's id stays in the column and is skipped here, so the preset keeps working.
const COLUMNS = `id, name, instructions, model, reasoning_effort, mcp_config, created_at, updated_at,
  ARRAY(SELECT l.id::text FROM unnest(presets.library_ids) WITH ORDINALITY AS saved(id, n)
          JOIN libraries l ON l.id = saved.id AND l.user_id = presets.user_id ORDER BY saved.n) AS library_ids`;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** unique_violation: the (user_id, name) constraint. */
const UNIQUE_VIOLATION = '23505';

const unique = (ids: string[] | undefined) => [...new Set(ids ?? [])];
const jsonb = (names: string[] | null | undefined) => (names == null ? null : JSON.stringify(names));

function nameTaken(err: unknown, name: string | undefined): unknown {
  if ((err as { code?: string }).code !== UNIQUE_VIOLATION) return err;
  return new AppError('RES_3022', `A preset named "${name ?? ''}" exists already; choose another name.`, [{ field: 'name', message: 'taken' }]);
}

/** Creates a preset; throws `RES_3021` past the limit and `RES_3022` for a name the user already has. */
export async function insertPreset(db: Database, userId: string, p: CreatePresetBody): Promise<PresetRow> {
  try {
    return await db.transaction(async (tx) => {
      // Serializes one user's concurrent creations so the limit holds.
      await tx.query('SELECT id FROM users WHERE id = $1 FOR UPDATE', [userId]);
      const { rows: counted } = await tx.query<{ n: number }>('SELECT count(*)::int AS n FROM presets WHERE user_id = $1', [userId]);
      if ((counted[0]?.n ?? 0) >= MAX_PRESETS_PER_USER) {
        throw new AppError('RES_3021', `An account can keep at most ${MAX_PRESETS_PER_USER} presets; delete one first.`);
      }
      const { rows } = await tx.query<PresetRow>(
        `INSERT INTO presets (user_id, name, instructions, model, reasoning_effort, mcp_config, library_ids)
         VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7::uuid[]) RETURNING ${COLUMNS}`,
        [userId, p.name, p.instructions ?? '', p.model ?? null, p.reasoning_effort ?? null, jsonb(p.mcp_config), unique(p.library_ids)],
      );
      if (!rows[0]) throw new Error('insert into presets returned no row');
      return rows[0];
    });
  } catch (err) {
    throw nameTaken(err, p.name);
  }
}

/** The user's presets by name. */
export async function listPresets(db: Queryable, userId: string): Promise<PresetRow[]> {
  const { rows } = await db.query<PresetRow>(`SELECT ${COLUMNS} FROM presets WHERE user_id = $1 ORDER BY lower(name), name, id`, [userId]);
  return rows;
}

export async function findOwnedPreset(db: Queryable, userId: string, id: string): Promise<PresetRow | null> {
  if (!UUID.test(id)) return null;
  const { rows } = await db.query<PresetRow>(`SELECT ${COLUMNS} FROM presets WHERE id = $1 AND user_id = $2`, [id, userId]);
  return rows[0] ?? null;
}

/** Applies `patch`; null when not owned. Throws `RES_3022` for a name the user already has. */
export async function updatePreset(db: Queryable, userId: string, id: string, patch: UpdatePresetBody): Promise<PresetRow | null> {
  if (!UUID.test(id)) return null;
  const sets = ['updated_at = now()'];
  const params: unknown[] = [id, userId];
  const set = (column: string, value: unknown, cast = '') => {
    params.push(value);
    sets.push(`${column} = $${params.length}${cast}`);
  };
  if (patch.name !== undefined) set('name', patch.name);
  if (patch.instructions !== undefined) set('instructions', patch.instructions);
  if (patch.model !== undefined) set('model', patch.model);
  if (patch.reasoning_effort !== undefined) set('reasoning_effort', patch.reasoning_effort);
  if (patch.mcp_config !== undefined) set('mcp_config', jsonb(patch.mcp_config), '::jsonb');
  if (patch.library_ids !== undefined) set('library_ids', unique(patch.library_ids), '::uuid[]');
  try {
    const { rows } = await db.query<PresetRow>(
      `UPDATE presets SET ${sets.join(', ')} WHERE id = $1 AND user_id = $2 RETURNING ${COLUMNS}`,
      params as string[],
    );
    return rows[0] ?? null;
  } catch (err) {
    throw nameTaken(err, patch.name);
  }
}

export async function deletePreset(db: Queryable, userId: string, id: string): Promise<boolean> {
  if (!UUID.test(id)) return false;
  const { rowCount } = await db.query('DELETE FROM presets WHERE id = $1 AND user_id = $2', [id, userId]);
  return rowCount > 0;
}
