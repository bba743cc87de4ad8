/** Checks a part of an import file against a zod schema, naming the first problem and where it is. */
import type { z } from 'zod';
import { importError } from './model.js';

/** `value` as `schema` says, or VAL_2033 "conversation 3, mapping.abc.message: expected object". */
export function parseShape<S extends z.ZodType>(schema: S, value: unknown, where: string): z.infer<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const path = issue?.path.map(String).join('.') ?? '';
  return raise(where, path, issue?.message ?? 'is not valid');
}

function raise(where: string, path: string, message: string): never {
  const at = path ? `${where}, ${path.length > 200 ? `${path.slice(0, 200)}…` : path}` : where;
  throw importError('VAL_2033', at, message);
}

/** Text of the parts Pulp cannot use (images, audio, files): a short marker in their place. */
export const IMAGE_MARKER = '[image not imported]';
export const AUDIO_MARKER = '[audio not imported]';
export const ATTACHMENT_MARKER = '[attachment not imported]';
