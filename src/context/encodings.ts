/**
 * The BPE encodings, each loaded the first time it is used. An encoding's tables take about
 * 0.2 s and 50–75 MB to load: a server whose models all use o200k never loads cl100k, a process
 * that never counts (a CLI, most test files) loads neither, and an idle server that has not run a
 * turn yet holds none. The first turn after a start pays the load once — except on several
 * servers, where a server loads its default model's encoding before it listens (src/app.ts): the
 * clients of a server that died arrive at once.
 */
import { createRequire } from 'node:module';

export type EncodingName = 'o200k_base' | 'cl100k_base';

/** What Pulp uses of an encoding module of gpt-tokenizer (all encodings have the same API). */
export type Encoding = Pick<typeof import('gpt-tokenizer/encoding/o200k_base'), 'countTokens' | 'encode' | 'decode'>;

// `require` is synchronous, so counting stays synchronous for the turn (see tokens.ts).
const requireEncoding = createRequire(import.meta.url);
const loaded = new Map<EncodingName, Encoding>();

export function loadEncoding(name: EncodingName): Encoding {
  let encoding = loaded.get(name);
  if (!encoding) {
    encoding = requireEncoding(`gpt-tokenizer/encoding/${name}`) as Encoding;
    loaded.set(name, encoding);
  }
  return encoding;
}
