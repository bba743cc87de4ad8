import { describe, expect, it } from 'vitest';
import { NUL_MESSAGE, SURROGATE_MESSAGE, unstorableReason } from '../../src/util/storable-text.js';

describe('text PostgreSQL cannot store', () => {
  it('accepts any valid Unicode text, emoji (a surrogate pair) and non-BMP characters included', () => {
    for (const text of ['', 'plain', 'é e\u0301', '\ud83d\ude00 smile', '\u{10ffff}', '\uffff\ufeff']) expect(unstorableReason(text)).toBeUndefined();
  });

  it('refuses U+0000 and every unpaired surrogate, wherever it sits', () => {
    expect(unstorableReason('a\u0000b')).toBe(NUL_MESSAGE);
    for (const text of ['\ud800', 'a\ud800', '\ud800a', '\udc00', 'a\udfffb', '\ude00\ud83d', '\ud83d\ud83d\ude00']) expect(unstorableReason(text), JSON.stringify(text)).toBe(SURROGATE_MESSAGE);
  });
});
