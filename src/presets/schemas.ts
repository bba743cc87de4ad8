/** The wire shapes of presets: the `Preset` answer and the create and update bodies. */
import { z } from 'zod';
import { InstructionsSchema, LibraryIdsSchema, McpNamesSchema, ModelSchema, ReasoningEffortSchema } from '../sessions/schemas.js';

export const MAX_PRESET_NAME_CHARS = 100;

export const PresetSchema = z.object({
  id: z.string(),
  name: z.string(),
  instructions: z.string(),
  /** null: the server's default model when a session is made from it. */
  model: z.string().nullable(),
  reasoning_effort: ReasoningEffortSchema.nullable(),
  /** null: every configured MCP server when a session is made from it; [] none. */
  mcp_config: z.array(z.string()).nullable(),
  /** The user's libraries attached to every session made from the preset. */
  library_ids: z.array(z.string()),
  created_at: z.string(),
  updated_at: z.string(),
});
export type Preset = z.infer<typeof PresetSchema>;

const Name = z.string().trim().min(1).max(MAX_PRESET_NAME_CHARS);

export const CreatePresetBodySchema = z
  .object({
    name: Name,
    instructions: InstructionsSchema.optional(),
    model: ModelSchema.nullable().optional(),
    reasoning_effort: ReasoningEffortSchema.nullable().optional(),
    mcp_config: McpNamesSchema.nullable().optional(),
    library_ids: LibraryIdsSchema.optional(),
  })
  .strict();
export type CreatePresetBody = z.infer<typeof CreatePresetBodySchema>;

export const UpdatePresetBodySchema = CreatePresetBodySchema.partial().strict();
export type UpdatePresetBody = z.infer<typeof UpdatePresetBodySchema>;

export const PresetParamsSchema = z.object({ id: z.string().min(1).max(100) });
