/**
 * Model context windows: the window of a model name, resolved from a built-in table
 * by exact name, then by the longest known name it contains (Azure deployment names), with
 * `MODEL_CONTEXT_WINDOWS` overrides winning over both and 15 000 for unknown models.
 */

/** Built-in windows in tokens. */
export const KNOWN_CONTEXT_WINDOWS: Readonly<Record<string, number>> = Object.freeze({
  'gpt-5': 272_000,
  'gpt-5-mini': 272_000,
  'gpt-5-nano': 272_000,
  'gpt-5.1': 272_000,
  'gpt-5.2': 272_000,
  'gpt-5-codex': 272_000,
  'gpt-5-pro': 272_000,
  'gpt-4.1': 128_000,
  'gpt-4.1-mini': 128_000,
  'gpt-4o': 128_000,
  'gpt-4o-mini': 128_000,
  'gpt-4-turbo': 128_000,
  o1: 128_000,
  o3: 128_000,
  'o3-mini': 128_000,
  'o4-mini': 128_000,
  'gpt-4': 8_192,
  'gpt-3.5-turbo': 16_385,
  'gpt-35-turbo': 16_385,
  offline: 32_000,
});

/** The window assumed for a model nobody knows. */
export const UNKNOWN_MODEL_WINDOW = 15_000;

/** Longest names first, so the first contained name found is the longest. */
const NAMES_LONGEST_FIRST = Object.keys(KNOWN_CONTEXT_WINDOWS).sort((a, b) => b.length - a.length);

/** Called once per unknown model name (per callback), so the log says it once, not every turn. */
export type UnknownModelWarning = (model: string, assumedWindow: number) => void;

/**
 * Which unknown models each warn callback was already told about. Keyed by the callback so the
 * "once" belongs to whoever listens (one per server in practice), not to the process.
 */
const warnedByCallback = new WeakMap<UnknownModelWarning, Set<string>>();

/** The built-in window of `model`, or `undefined` when neither an exact nor a contained name matches. */
export function knownContextWindow(model: string): number | undefined {
  const name = model.trim().toLowerCase();
  const exact = KNOWN_CONTEXT_WINDOWS[name];
  if (exact !== undefined) return exact;
  const contained = NAMES_LONGEST_FIRST.find((known) => name.includes(known));
  return contained === undefined ? undefined : KNOWN_CONTEXT_WINDOWS[contained];
}

/**
 * The context window of `model` in tokens.
 *
 * Order: an override whose name equals `model` exactly; else the built-in table by
 * exact name, then by the longest known name contained in `model` (case-insensitive, so
 * `prod-GPT-4o-eu` → gpt-4o); else {@link UNKNOWN_MODEL_WINDOW}, calling `warn` once per model.
 *
 * @param overrides `config.llm.contextWindowOverrides` (from `MODEL_CONTEXT_WINDOWS`).
 * @param warn told once per unknown model name (per callback instance).
 */
export function contextWindowFor(
  model: string,
  overrides: Readonly<Record<string, number>> = {},
  warn?: UnknownModelWarning,
): number {
  const override = Object.hasOwn(overrides, model) ? overrides[model] : undefined;
  if (override !== undefined) return override;
  const known = knownContextWindow(model);
  if (known !== undefined) return known;
  if (warn) {
    let warned = warnedByCallback.get(warn);
    if (!warned) warnedByCallback.set(warn, (warned = new Set()));
    if (!warned.has(model)) {
      warned.add(model);
      warn(model, UNKNOWN_MODEL_WINDOW);
    }
  }
  return UNKNOWN_MODEL_WINDOW;
}

/**
 * The summarization threshold: `floor(0.8 × window)` (the `trigger_tokens` of a session). Integer
 * arithmetic, so no floating-point rounding can move the boundary.
 */
export function triggerTokens(window: number): number {
  return Math.floor((window * 4) / 5);
}
