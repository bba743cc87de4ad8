/**
 * The checks a session's settings pass wherever they are set (a session, a preset): the model is
 * one the operator offers and every MCP server name is configured. Both answer 422 `VAL_2001`
 * naming the field.
 */
import { AppError, type ErrorDetail } from '../errors/app-error.js';

export interface SettingsOffer {
  models: string[];
  /** The names among `names` that are not configured MCP servers. */
  unknownMcpNames(names: string[]): string[];
}

export function validationError(field: string, message: string): AppError {
  const details: ErrorDetail[] = [{ field, message }];
  return new AppError('VAL_2001', `Validation failed: ${field}: ${message}`, details);
}

/** Throws `VAL_2001` when `model` is not offered or an MCP name is unknown; absent values pass. */
export function checkSettings(offer: SettingsOffer, settings: { model?: string | null; mcp_config?: string[] | null }): void {
  const { model, mcp_config: names } = settings;
  if (model != null && !offer.models.includes(model)) {
    throw validationError('model', `unknown model "${model}"; choose one of ${offer.models.join(', ')}`);
  }
  const unknown = names ? offer.unknownMcpNames(names) : [];
  if (unknown.length > 0) throw validationError('mcp_config', `unknown MCP server(s): ${unknown.join(', ')}`);
}
