/**
 * The price table (`MODEL_PRICES`): USD per million tokens, per model name. Read once at startup;
 * a model without an entry is recorded with its tokens and a NULL cost.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';

const perMillion = z.number().finite().min(0).max(1_000_000);

/** One model's prices. `cached_input` defaults to `input`, `reasoning` to `output`. */
export const ModelPriceSchema = z
  .object({ input: perMillion, cached_input: perMillion.optional(), output: perMillion, reasoning: perMillion.optional() })
  .strict();
export const PriceTableSchema = z.record(z.string().min(1), ModelPriceSchema);

export type ModelPrice = z.infer<typeof ModelPriceSchema>;
export type PriceTable = z.infer<typeof PriceTableSchema>;

/** The prices of one call as decimal strings, exact for the database's numeric arithmetic. */
export interface CallPrices {
  input: string;
  cachedInput: string;
  output: string;
  reasoning: string;
}

/** The prices of `model` (exact name first, then case-insensitively), or undefined when it has none. */
export function pricesFor(table: PriceTable, model: string): CallPrices | undefined {
  const price = table[model] ?? Object.entries(table).find(([name]) => name.toLowerCase() === model.toLowerCase())?.[1];
  if (!price) return undefined;
  return {
    input: String(price.input),
    cachedInput: String(price.cached_input ?? price.input),
    output: String(price.output),
    reasoning: String(price.reasoning ?? price.output),
  };
}

/**
 * `MODEL_PRICES` as given: inline JSON (starts with `{`) or the path of a JSON file.
 *
 * @throws Error saying what is wrong (unreadable file, bad JSON, a bad entry with its path).
 */
export function parsePriceTable(value: string): PriceTable {
  const text = value.trimStart().startsWith('{') ? value : readPriceFile(value);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new Error(`is not valid JSON (${(err as Error).message})`, { cause: err });
  }
  const parsed = PriceTableSchema.safeParse(json);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const where = issue?.path.join('.') ?? '';
  throw new Error(`has a bad entry${where ? ` at ${where}` : ''}: ${issue?.message ?? 'invalid'} (expected {"model": {"input": 0.15, "output": 0.6, "cached_input"?: 0.075, "reasoning"?: 0.6}}, USD per million tokens)`);
}

function readPriceFile(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new Error(`names a file that cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, { cause: err });
  }
}
