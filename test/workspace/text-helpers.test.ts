import { describe, expect, it } from 'vitest';
import { contentDisposition, contentTypeFor } from '../../src/workspace/content-type.js';
import { applyEdits } from '../../src/workspace/tools/apply-edits.js';
import { globMatcher } from '../../src/workspace/tools/glob.js';
import { countTokens, selectText } from '../../src/workspace/tools/read-text.js';
import { unifiedDiff } from '../../src/workspace/tools/unified-diff.js';

describe('edits', () => {
  it('apply in order, each to the result of the one before', () => {
    expect(applyEdits('a b c', [{ old_text: 'a', new_text: 'x' }, { old_text: 'x b', new_text: 'y' }])).toEqual({ ok: true, text: 'y c', matches: ['exact', 'exact'] });
  });

  it('the whitespace fallback replaces only the matched span, keeping the text around it', () => {
    const out = applyEdits('  if (a &&\n      b) {\n  }\n', [{ old_text: 'if (a && b) {', new_text: 'if (c) {' }]);
    expect(out).toEqual({ ok: true, text: '  if (c) {\n  }\n', matches: ['whitespace'] });
  });

  it('refuse an empty old_text and report which edit failed', () => {
    expect(applyEdits('x', [{ old_text: '  ', new_text: 'y' }])).toMatchObject({ ok: false, index: 0 });
    expect(applyEdits('x', [{ old_text: 'x', new_text: 'y' }, { old_text: 'zzz', new_text: '' }])).toMatchObject({ ok: false, index: 1 });
  });
});

describe('unified diffs', () => {
  it('show changed lines with context and correct hunk headers', () => {
    const before = Array.from({ length: 20 }, (_, i) => `l${i + 1}`).join('\n') + '\n';
    const after = before.replace('l10\n', 'ten\n');
    expect(unifiedDiff(before, after, 'f.txt')).toBe(['--- a/f.txt', '+++ b/f.txt', '@@ -7,7 +7,7 @@', ' l7', ' l8', ' l9', '-l10', '+ten', ' l11', ' l12', ' l13', ''].join('\n'));
  });

  it('are empty for equal texts and show additions to an empty file', () => {
    expect(unifiedDiff('same\n', 'same\n', 'x')).toBe('');
    expect(unifiedDiff('', 'new\n', 'x')).toContain('@@ -0,0 +1,1 @@\n+new');
  });

  it('stay correct for a large rewrite', () => {
    const before = Array.from({ length: 3000 }, (_, i) => `a${i}`).join('\n');
    const after = Array.from({ length: 3000 }, (_, i) => `b${i}`).join('\n');
    const diff = unifiedDiff(before, after, 'x');
    expect(diff.split('\n').filter((l) => l.startsWith('-a')).length).toBe(3000);
    expect(diff.split('\n').filter((l) => l.startsWith('+b')).length).toBe(3000);
  });
});

describe('globs', () => {
  it('match names at any depth without a slash, and relative paths with one', () => {
    const csv = globMatcher('*.csv');
    expect(csv('a.csv')).toBe(true);
    expect(csv('deep/down/b.csv')).toBe(true);
    expect(csv('b.csv.bak')).toBe(false);
    const scoped = globMatcher('reports/**/*.{md,txt}');
    expect(scoped('reports/a.md')).toBe(true);
    expect(scoped('reports/x/y/z.txt')).toBe(true);
    expect(scoped('other/a.md')).toBe(false);
    expect(globMatcher('data_?.csv')('data_1.csv')).toBe(true);
    expect(globMatcher('[ab].txt')('c.txt')).toBe(false);
    expect(globMatcher('a+(b).txt')('a+(b).txt')).toBe(true);
  });
});

describe('reading text', () => {
  it('counts special-token text as plain text', () => {
    expect(countTokens('<|endoftext|>')).toBeGreaterThan(1);
  });

  it('cuts at the token budget on a line boundary and says how to read the rest', () => {
    const text = Array.from({ length: 200 }, (_, i) => `line number ${i}`).join('\n');
    const out = selectText(text, { budget: 100 });
    expect(out.truncated).toBe(true);
    expect(countTokens(out.content)).toBeLessThanOrEqual(100);
    expect(out.content.endsWith('\n')).toBe(true);
    expect(out.note).toMatch(/head .* tail/);
    expect(out.shown[0]![0]).toBe(1);
  });
});

describe('content types and dispositions', () => {
  it('come from the extension, with an ASCII fallback and a UTF-8 filename*', () => {
    expect(contentTypeFor('A.PNG')).toBe('image/png');
    expect(contentTypeFor('noext')).toBe('application/octet-stream');
    expect(contentDisposition('naïve 100%.txt')).toBe(`attachment; filename="na_ve 100_.txt"; filename*=UTF-8''na%C3%AFve%20100%25.txt`);
  });
});
