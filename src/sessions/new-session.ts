/**
 * The settings of a new session: the request's fields, then its preset's (copied: a later change to
 * the preset leaves the session alone), then the server's defaults.
 */
import { AppError } from '../errors/app-error.js';
import type { CreateSessionBody } from './schemas.js';
import { checkSettings, type SettingsOffer } from './settings.js';
import type { SessionDefaults } from './types.js';

export interface NewSessionContext {
  offer: SettingsOffer;
  defaultModel: string;
  /** The MCP servers of a session that names none: every configured one, as an explicit list. */
  defaultMcpNames: () => string[];
  findPreset: (presetId: string) => Promise<SessionDefaults | null>;
}

export interface NewSessionSettings {
  model: string;
  reasoningEffort: string | null;
  mcpConfig: string[];
  instructions: string;
  /** Libraries to attach once the session exists: the request's, else the preset's. */
  libraryIds: string[];
}

/**
 * Merges the request, its preset and the defaults. Throws `RES_3020` for a preset the caller does
 * not own, and `VAL_2022` when a setting taken from the preset is no longer offered (a model or an
 * MCP server the operator removed since).
 */
export async function newSessionSettings(body: CreateSessionBody, ctx: NewSessionContext): Promise<NewSessionSettings> {
  const preset = body.preset_id === undefined ? null : await ctx.findPreset(body.preset_id);
  if (body.preset_id !== undefined && !preset) throw new AppError('RES_3020', 'Preset not found.');
  const model = body.model ?? preset?.model ?? undefined;
  const mcpConfig = body.mcp_config ?? preset?.mcp_config ?? undefined;
  if (preset) {
    try {
      checkSettings(ctx.offer, { model: body.model ?? preset.model, mcp_config: body.mcp_config ?? preset.mcp_config });
    } catch (err) {
      const reason = err instanceof AppError ? err.details?.[0]?.message : undefined;
      throw new AppError('VAL_2022', `The preset's settings are no longer offered (${reason ?? 'unknown setting'}). Edit the preset, or give the setting in the request.`, [
        { field: 'preset_id', message: reason ?? 'settings no longer offered' },
      ]);
    }
  }
  return {
    model: model ?? ctx.defaultModel,
    reasoningEffort: body.reasoning_effort ?? preset?.reasoning_effort ?? null,
    mcpConfig: mcpConfig ?? ctx.defaultMcpNames(),
    instructions: body.instructions ?? preset?.instructions ?? '',
    libraryIds: body.library_ids ?? preset?.library_ids ?? [],
  };
}
