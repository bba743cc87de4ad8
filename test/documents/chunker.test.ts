/** How converted text is cut into search chunks, and how rankings are fused. */
import { describe, expect, it } from 'vitest';
import { chunkText } from '../../src/documents/knowledge/chunker.js';
import { fuse } from '../../src/documents/knowledge/search.js';

describe('chunking converted text', () => {
  it('a PDF is chunked by page and every chunk knows its page', () => {
    const chunks = chunkText('--- page 1 ---\nFirst page.\n\n--- page 2 ---\nSecond page.\n\n--- page 3 ---\n\n--- page 4 ---\nFourth.');
    expect(chunks.map((c) => [c.page, c.content])).toEqual([
      [1, 'First page.'],
      [2, 'Second page.'],
      [4, 'Fourth.'],
    ]);
  });

  it('Markdown is chunked by heading, each chunk named by its section; a bare heading is no chunk', () => {
    const chunks = chunkText('# Policy\n\nIntro.\n\n## Trains\n\nSecond class.\n\n## Hotels\n\n120 EUR a night.\n\n# Appendix\n\n## Notes\n\nNone.');
    expect(chunks.map((c) => c.section)).toEqual(['Policy', 'Trains', 'Hotels', 'Notes']);
    expect(chunks[1]!.content).toBe('## Trains\n\nSecond class.');
    expect(chunks.every((c) => c.page === null)).toBe(true);
  });

  it('a long section becomes chunks near the target size that overlap, so no sentence is only cut', () => {
    const sentences = Array.from({ length: 60 }, (_, i) => `Sentence number ${i} tells one fact about the depot.`);
    const chunks = chunkText(sentences.map((s) => `${s}\n\n`).join(''), { targetChars: 300, overlapChars: 80 });
    expect(chunks.length).toBeGreaterThan(8);
    for (const c of chunks) expect(c.content.length).toBeLessThanOrEqual(300 + 80 + 4);
    for (const s of sentences) expect(chunks.some((c) => c.content.includes(s))).toBe(true);
    for (let i = 1; i < chunks.length; i++) {
      const previousEnd = chunks[i - 1]!.content.slice(-40);
      expect(chunks[i]!.content).toContain(previousEnd.slice(previousEnd.indexOf(' ') + 1));
    }
    expect(chunks.map((c) => c.ordinal)).toEqual(chunks.map((_, i) => i));
  });

  it('a paragraph without breaks is cut hard, and the count of chunks is bounded', () => {
    const chunks = chunkText('x'.repeat(10_000), { targetChars: 1000, overlapChars: 0, maxChunks: 4 });
    expect(chunks).toHaveLength(4);
    expect(chunks[0]!.content).toHaveLength(1000);
  });
});

describe('reciprocal rank fusion', () => {
  it('a result high in both rankings beats one that tops only one of them', () => {
    const fused = fuse([[{ id: 'a' }, { id: 'b' }, { id: 'c' }], [{ id: 'b' }, { id: 'd' }, { id: 'c' }]]);
    expect(fused.map((r) => r.id)).toEqual(['b', 'c', 'a', 'd']);
    expect(fused[0]!.score).toBeCloseTo(1 / 62 + 1 / 61);
  });
});
