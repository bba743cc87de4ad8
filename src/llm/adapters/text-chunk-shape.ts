/**
 * The text of a streamed chunk read without parsing its JSON, when the chunk is a text-only chunk
 * seen before with other text. A provider sends nearly every chunk of an answer in one shape: the
 * same id, model and fields, only the text differs. Parsing each one as JSON was half of the
 * server's CPU on the path from the provider's socket to the WebSocket (about 2 µs a chunk under
 * load), while comparing it with the shape learned from an earlier chunk costs a fraction of that.
 *
 * The shape is the chunk's text around its text value: `prefix` + a JSON string literal + `suffix`.
 * A chunk made of the same prefix and suffix and a literal without escapes is the same JSON with
 * another string in the same place, so its text is the literal's inside, exactly what parsing it
 * would give. Anything else (an escape, a changed field, another event) is parsed as before.
 */

/** A JSON string literal with nothing to unescape: no quote, backslash or control character inside. */
// eslint-disable-next-line no-control-regex -- JSON forbids raw control characters in a string: such a chunk goes to the parser, which refuses it
const PLAIN_LITERAL = /^"[^"\\\u0000-\u001f]+"$/;

/** Literal length (quotes included) from which a slice would be a view of the chunk (V8: 13 characters). */
const COPY_FROM = 15;

/** Attempts to learn a shape before giving up for the answer, for a provider whose chunks all differ. */
const LEARN_ATTEMPTS = 3;

export class TextChunkShape {
  #prefix: string | undefined;
  #suffix = '';
  #attempts = 0;

  /** Whether learning is still worth trying: no shape yet, and attempts left. */
  get learning(): boolean {
    return this.#prefix === undefined && this.#attempts < LEARN_ATTEMPTS;
  }

  /** The text of `data` when it has the learned shape; `undefined` when it must be parsed. */
  textOf(data: string): string | undefined {
    const prefix = this.#prefix;
    if (prefix === undefined) return undefined;
    const suffix = this.#suffix;
    const end = data.length - suffix.length;
    // Slices compared with === are compared as memory; startsWith and endsWith go character by
    // character, five times slower over a provider's prefix of 100–200 characters.
    if (data.slice(0, prefix.length) !== prefix || data.slice(end) !== suffix) return undefined;
    // A chunk shorter than the shape leaves an empty or reversed range here, which the test refuses.
    const literal = data.slice(prefix.length, end);
    if (!PLAIN_LITERAL.test(literal)) return undefined;
    // A slice of 13 characters or more is a view of the whole chunk in V8: text kept for the answer
    // would keep every chunk it came in. Parsing the literal gives the same characters as a string of
    // their own; shorter slices are copies already.
    return literal.length < COPY_FROM ? literal.slice(1, -1) : (JSON.parse(literal) as string);
  }

  /**
   * Learns the shape of `data`, a chunk whose parsed form has `text` at the place `textAt` reads.
   * The place of the literal is checked, not assumed: the same text with another literal in its
   * place must read back as that literal, and nothing else in the chunk may change.
   */
  learn(data: string, text: string, textAt: (data: string) => string | undefined): void {
    if (!this.learning) return;
    this.#attempts += 1;
    const literal = JSON.stringify(text);
    const at = data.indexOf(literal);
    if (at < 0 || !PLAIN_LITERAL.test(literal)) return;
    const prefix = data.slice(0, at);
    const suffix = data.slice(at + literal.length);
    const probe = text === 'x' ? 'y' : 'x';
    if (textAt(`${prefix}"${probe}"${suffix}`) !== probe) return;
    this.#prefix = prefix;
    this.#suffix = suffix;
  }
}
