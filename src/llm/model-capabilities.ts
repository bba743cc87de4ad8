/**
 * Whether a model can see images: the operator's `MODEL_CAPABILITIES` first, then a small table of
 * known OpenAI model families; a model in neither is taken as able to (local and new models mostly
 * are, and a wrong guess only costs the provider's own error).
 */

export type ModelCapability = 'text' | 'vision';

/** Known families, first match wins: the plain `gpt-4` and `gpt-3.5` models read text only. */
const BUILT_IN: ReadonlyArray<readonly [RegExp, ModelCapability]> = [
  [/^gpt-4o/, 'vision'],
  [/^gpt-4\.1/, 'vision'],
  [/^gpt-4\.5/, 'vision'],
  [/^gpt-5/, 'vision'],
  [/^o[134](-|$)/, 'vision'],
  [/^gpt-4-turbo/, 'vision'],
  [/^gpt-3\.5/, 'text'],
  [/^gpt-4(-\d{4}|-32k.*)?$/, 'text'],
];

/** The capability of `model`: configured, else the built-in table, else `vision`. */
export function modelCapability(model: string, configured: Readonly<Record<string, ModelCapability>>): ModelCapability {
  const own = configured[model];
  if (own) return own;
  // A provider prefix (`openai/gpt-4o`, Azure deployment names stay as they are) does not change the family.
  const bare = model.slice(model.lastIndexOf('/') + 1);
  for (const [pattern, capability] of BUILT_IN) if (pattern.test(bare)) return capability;
  return 'vision';
}
