import { describe, expect, it } from 'vitest';
import { NUL_MESSAGE, SURROGATE_MESSAGE, toStorableJson, toStorableObject, toStorableText, unstorableReason } from '../../src/util/storable-text.js';

describe('text PostgreSQL cannot store', () => {
  it('accepts any valid Unicode text, emoji (a surrogate pair) and non-BMP characters included', () => {
    for (const text of ['', 'plain', 'é e\u0301', '\ud83d\ude00 smile', '\u{10ffff}', '\uffff\ufeff']) expect(unstorableReason(text)).toBeUndefined();
  });

  it('refuses U+0000 and every unpaired surrogate, wherever it sits', () => {
    expect(unstorableReason('a\u0000b')).toBe(NUL_MESSAGE);
    for (const text of ['\ud800', 'a\ud800', '\ud800a', '\udc00', 'a\udfffb', '\ude00\ud83d', '\ud83d\ud83d\ude00']) expect(unstorableReason(text), JSON.stringify(text)).toBe(SURROGATE_MESSAGE);
  });

  it('makes text from the model storable: NUL and unpaired surrogates become U+FFFD, pairs stay', () => {
    expect(toStorableText('a\u0000b\ud800c\ud83d\ude00\udc00')).toBe('a\ufffdb\ufffdc\ud83d\ude00\ufffd');
    expect(toStorableText('plain')).toBe('plain');
  });

  it('makes every string and key of a jsonb value storable, and keeps the rest as it is', () => {
    const json = toStorableJson([{ type: 'message', content: 'x\ud800', 'k\u0000': [1, null, true, 'ok'] }, {}]);
    expect(JSON.parse(json)).toEqual([{ type: 'message', content: 'x\ufffd', 'k\ufffd': [1, null, true, 'ok'] }, {}]);
    expect(json).not.toMatch(/\\u(0000|d[89a-f])/i);
    expect(toStorableJson(undefined)).toBe('null');
    expect(toStorableObject({ path: 'input/\u0000', n: 1 })).toEqual({ path: 'input/\ufffd', n: 1 });
  });
});
