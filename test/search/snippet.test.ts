import { describe, expect, it } from 'vitest';
import { decodeCursor, encodeCursor } from '../../src/search/cursor.js';
import { MARK_END as E, MARK_START as S, parseMarked } from '../../src/search/snippet.js';

describe('snippets', () => {
  it('turn marks into offsets of plain text, collapsing whitespace', () => {
    expect(parseMarked(`She ${S}runs${E} every\n\n  day, ${S}running${E}`)).toEqual({
      text: 'She runs every day, running',
      highlights: [
        [4, 8],
        [20, 27],
      ],
    });
    expect(parseMarked(`  ${S}Marathon${E} training `)).toEqual({ text: 'Marathon training', highlights: [[0, 8]] });
  });

  it('count offsets in UTF-16 code units, as JavaScript indexes strings', () => {
    const { text, highlights } = parseMarked(`😀 ${S}café${E}`);
    expect(highlights).toEqual([[3, 7]]);
    expect(text.slice(3, 7)).toBe('café');
  });

  it('ignore unbalanced or empty marks and merge touching ones', () => {
    expect(parseMarked(`a ${E}b ${S}${E}c ${S}d`)).toEqual({ text: 'a b c d', highlights: [] });
    expect(parseMarked(`${S}New${E}${S}York${E}`)).toEqual({ text: 'NewYork', highlights: [[0, 7]] });
  });
});

describe('cursors', () => {
  it('round-trip a float rank exactly and refuse anything else', () => {
    const position = { rank: Math.fround(0.0607927), id: '0b0e7c1a-8f6e-4a51-9b38-2c7d7d1f9e01' };
    expect(decodeCursor(encodeCursor(position))).toEqual(position);
    for (const bad of ['', '!!!', Buffer.from('[-1,"0b0e7c1a-8f6e-4a51-9b38-2c7d7d1f9e01"]').toString('base64url'), Buffer.from('["1","x"]').toString('base64url')]) {
      expect(() => decodeCursor(bad), bad).toThrow(expect.objectContaining({ code: 'VAL_2021' }));
    }
  });
});
