import { describe, expect, it } from 'vitest';
import { canShowInline, contentDisposition, contentTypeFor, mediaTypeFor } from '../../src/workspace/content-type.js';
import { tooLarge, unescapeFormName } from '../../src/workspace/http/upload.js';
import { applyEdits } from '../../src/workspace/tools/apply-edits.js';
import { globMatcher } from '../../src/workspace/tools/glob.js';
import { countTokens, decodeText, selectText } from '../../src/workspace/tools/read-text.js';
import { unifiedDiff } from '../../src/workspace/tools/unified-diff.js';

/** Applies a unified diff to `before` (what `patch` does), checking every context and removed line. */
function applyUnifiedDiff(before: string, diff: string): string {
  const old = before === '' ? [] : before.replace(/\n$/, '').split('\n');
  const out: string[] = [];
  let next = 0; // index of the next old line not yet copied
  const lines = diff.split('\n').slice(2, -1);
  for (let i = 0; i < lines.length; ) {
    const header = /^@@ -(\d+),(\d+) \+(\d+),(\d+) @@$/.exec(lines[i]!);
    if (!header) throw new Error(`not a hunk header: ${lines[i]}`);
    const [oldStart, oldCount, newStart, newCount] = header.slice(1).map(Number) as [number, number, number, number];
    const firstOld = oldCount === 0 ? oldStart : oldStart - 1;
    while (next < firstOld) out.push(old[next++]!);
    expect(newCount === 0 ? newStart : newStart - 1).toBe(out.length);
    for (i++; i < lines.length && !lines[i]!.startsWith('@@'); i++) {
      const [kind, text] = [lines[i]![0], lines[i]!.slice(1)];
      if (kind !== '+') expect(old[next++]).toBe(text);
      if (kind !== '-') out.push(text);
    }
  }
  while (next < old.length) out.push(old[next++]!);
  return out.length === 0 ? '' : `${out.join('\n')}\n`;
}

/** The fewest lines removed plus added that turn `a` into `b` (via the longest common subsequence). */
function minimalChanges(a: string[], b: string[]): number {
  const lcs = Array.from({ length: a.length + 1 }, () => new Array<number>(b.length + 1).fill(0));
  for (let i = a.length - 1; i >= 0; i--) {
    for (let j = b.length - 1; j >= 0; j--) lcs[i]![j] = a[i] === b[j] ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
  }
  return a.length + b.length - 2 * lcs[0]![0]!;
}

const lines = (text: string) => text.split(' ').map((w) => `${w}\n`).join('');

describe('edits', () => {
  it.each([
    ['a b c d e f g', 'a x c d y f g z'],
    ['a b c a b b a', 'c b a b a c'],
    ['one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen', 'one 2 three four five six seven eight nine ten eleven twelve thirteen 14 fifteen'],
    ['x y z', 'q x r y s z t'],
    ['p q r s t u v w', 'w v u t s r q p'],
  ])('turn %j into %j with the fewest changed lines, and applying the diff gives the new text', (from, to) => {
    const [before, after] = [lines(from), lines(to)];
    const diff = unifiedDiff(before, after, 'f.txt');
    expect(applyUnifiedDiff(before, diff)).toBe(after);
    const changed = diff.split('\n').slice(2).filter((l) => l.startsWith('-') || l.startsWith('+')).length;
    expect(changed).toBe(minimalChanges(from.split(' '), to.split(' ')));
  });

  it('say exactly which edit failed and why, quoting at most 80 characters of its old_text on one line', () => {
    const text = 'alpha beta\nalpha beta\ngamma   delta\ngamma\tdelta\nomega\n';
    expect(applyEdits(text, [{ old_text: 'omega', new_text: 'Ω' }, { old_text: ' \n\t', new_text: 'x' }])).toEqual({
      ok: false,
      index: 1,
      reason: 'edit 2: old_text is empty; give the exact text to replace.',
    });
    expect(applyEdits(text, [{ old_text: 'alpha\n  gamma', new_text: 'x' }])).toMatchObject({ index: 0, reason: 'edit 1: old_text "alpha gamma" was not found (not even ignoring whitespace).' });
    expect(applyEdits(text, [{ old_text: 'omega', new_text: 'Ω' }, { old_text: 'alpha beta', new_text: 'x' }])).toEqual({
      ok: false,
      index: 1,
      reason: 'edit 2: old_text "alpha beta" matches more than once; add surrounding lines to make it unique.',
    });
    expect(applyEdits(text, [{ old_text: 'gamma delta', new_text: 'x' }])).toEqual({
      ok: false,
      index: 0,
      reason: 'edit 1: old_text "gamma delta" matches more than once when whitespace is ignored; add surrounding lines.',
    });
    const long = `${'word '.repeat(30)}end`;
    const failed = applyEdits(text, [{ old_text: long, new_text: 'x' }]);
    expect(failed).toMatchObject({ reason: `edit 1: old_text "${long.slice(0, 77)}..." was not found (not even ignoring whitespace).` });
    const exactly80 = 'y'.repeat(80);
    expect(applyEdits(text, [{ old_text: exactly80, new_text: 'x' }])).toMatchObject({ reason: `edit 1: old_text "${exactly80}" was not found (not even ignoring whitespace).` });
  });

  it('replace a whitespace-tolerant match only when it is the one match, and say how each edit matched', () => {
    const text = 'if (a)   {\n  run();\n}\n';
    expect(applyEdits(text, [{ old_text: '  if (a) {\n run(); ', new_text: 'if (b) { run();' }, { old_text: '}\n', new_text: '}\n// done\n' }])).toEqual({
      ok: true,
      text: 'if (b) { run();\n}\n// done\n',
      matches: ['whitespace', 'exact'],
    });
  });

  it('join changes up to six unchanged lines apart into one hunk, and split them further apart', () => {
    const numbered = Array.from({ length: 30 }, (_, i) => `l${i + 1}`);
    const changeAt = (...at: number[]) => numbered.map((l, i) => (at.includes(i + 1) ? `${l}!` : l)).join('\n') + '\n';
    const before = numbered.join('\n') + '\n';
    const hunks = (after: string) => unifiedDiff(before, after, 'f').split('\n').filter((l) => l.startsWith('@@'));
    expect(hunks(changeAt(10, 17))).toEqual(['@@ -7,14 +7,14 @@']);
    expect(hunks(changeAt(10, 18))).toEqual(['@@ -7,7 +7,7 @@', '@@ -15,7 +15,7 @@']);
    expect(hunks(changeAt(1, 30))).toEqual(['@@ -1,4 +1,4 @@', '@@ -27,4 +27,4 @@']);
  });

  it('count a deletion of everything from line 0 of the new text', () => {
    expect(unifiedDiff('gone\n', '', 'x')).toBe('--- a/x\n+++ b/x\n@@ -1,1 +0,0 @@\n-gone\n');
  });

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
    // About 0.1 s here, but Stryker's instrumented diff loop runs tens of times slower: the 5 s of
    // the mutation config made its dry run fail on a busy machine.
  }, 30_000);
});

describe('globs', () => {
  it.each<[string, string[], string[]]>([
    ['data/**', ['data/a.csv', 'data/x/y/z.txt'], ['other/data/a.csv', 'data']],
    ['report[12].csv', ['report1.csv', 'report2.csv'], ['report3.csv', 'report[12].csv']],
    ['report[!12].csv', ['report3.csv', 'report!.csv'], ['report1.csv', 'report2.csv']],
    ['file[.txt', ['file[.txt'], ['filea.txt', 'file.txt']],
    ['[]a]x', [']x', 'ax'], ['bx']],
    ['a\\b[\\]', ['a\\b\\'], ['ab']],
    ['{src,lib}/*.{ts,js}', ['src/a.ts', 'lib/b.js'], ['test/a.ts', 'src/a.py']],
    ['a}b,c', ['a}b,c'], ['ab']],
    ['{a,b', ['a', 'b'], ['{a,b']],
  ])('translates %j so it matches %j and not %j', (pattern, yes, no) => {
    const match = globMatcher(pattern);
    for (const path of yes) expect(match(path), path).toBe(true);
    for (const path of no) expect(match(path), path).toBe(false);
  });

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

describe('what read_file selects', () => {
  const ten = Array.from({ length: 10 }, (_, i) => `line ${i + 1}`).join('\n') + '\n';

  it('reports the ranges it shows, and the whole file when head and tail cover it', () => {
    expect(selectText(ten, {})).toEqual({ content: ten, total_lines: 10, shown: [[1, 10]], truncated: false });
    expect(selectText(ten, { head: 2 })).toMatchObject({ content: 'line 1\nline 2', shown: [[1, 2]] });
    expect(selectText(ten, { tail: 2, head: null })).toMatchObject({ content: 'line 9\nline 10', shown: [[9, 10]] });
    expect(selectText(ten, { head: 1, tail: 1 })).toMatchObject({ content: 'line 1\n[... lines 2-9 not shown ...]\nline 10', shown: [[1, 1], [10, 10]] });
    expect(selectText(ten, { head: 5, tail: 5 }).shown).toEqual([[1, 10]]);
    expect(selectText(ten, { head: 6, tail: 5 }).content).toBe(ten.trimEnd());
    expect(selectText(ten, { head: 50 }).shown).toEqual([[1, 10]]);
    expect(selectText(ten, { tail: 50 }).shown).toEqual([[1, 10]]);
  });

  it('does not cut a text over the budget in bytes but not in tokens', () => {
    const words = 'word '.repeat(150);
    expect(selectText(words, { budget: 200 })).toMatchObject({ content: words, truncated: false });
  });

  it('cuts one long line inside the line, and names the lines and the tail to ask for', () => {
    const line = 'abc '.repeat(1000);
    const out = selectText(line, { budget: 50 });
    expect(out.truncated).toBe(true);
    expect(out.content.length).toBeGreaterThan(0);
    expect(line.startsWith(out.content)).toBe(true);
    expect(countTokens(out.content)).toBeLessThanOrEqual(50);
    expect(out.shown).toEqual([[1, 1]]);

    const fifty = Array.from({ length: 50 }, (_, i) => `line number ${i} `.repeat(5)).join('\n');
    const cut = selectText(fifty, { budget: 100 });
    const last = cut.shown[0]![1];
    expect(last).toBeLessThan(50);
    expect(cut.content.split('\n').filter(Boolean)).toHaveLength(last);
    expect(cut.note).toBe(
      `The file has 50 lines and more than 100 tokens; showing lines 1-${last}. Read other parts with head (first N lines) or tail (last N lines), e.g. tail=50, or process the file with execute_python_code.`,
    );
  });

  it('a cut of the tail counts its lines from where the tail starts', () => {
    const many = Array.from({ length: 400 }, (_, i) => `line number ${i + 1} `.repeat(3)).join('\n');
    const out = selectText(many, { tail: 300, budget: 100 });
    expect(out.shown[0]![0]).toBe(101);
    expect(out.content.startsWith('line number 101 ')).toBe(true);
    expect(out.note).toContain('e.g. tail=200,');
  });

  it('refuses binary and non-UTF-8 bytes with a message naming the file', () => {
    expect(() => decodeText(new Uint8Array([104, 0, 105]), 'input/a.bin')).toThrow('"input/a.bin" is a binary file; it can be downloaded, or read with execute_python_code.');
    expect(() => decodeText(new Uint8Array([0xff, 0xfe, 0x41]), 'input/b.txt')).toThrow('"input/b.txt" is not UTF-8 text; read it with execute_python_code.');
    // Only the first 8 KiB are sniffed for NUL bytes; later ones are valid UTF-8.
    const late = new Uint8Array(9000).fill(97);
    late[8500] = 0;
    expect(decodeText(late, 'input/c.txt')).toHaveLength(9000);
  });
});

describe('content types and dispositions', () => {
  it('come from the extension, with an ASCII fallback and a UTF-8 filename*', () => {
    expect(contentTypeFor('A.PNG')).toBe('image/png');
    expect(contentTypeFor('noext')).toBe('application/octet-stream');
    expect(contentDisposition('naïve 100%.txt')).toBe(`attachment; filename="na_ve 100_.txt"; filename*=UTF-8''na%C3%AFve%20100%25.txt`);
  });

  it('give every known extension its download type, and its bare media type for file rows', () => {
    const table: Record<string, string> = {
      'a.txt': 'text/plain; charset=utf-8',
      'a.log': 'text/plain; charset=utf-8',
      'a.md': 'text/markdown; charset=utf-8',
      'a.markdown': 'text/markdown; charset=utf-8',
      'a.csv': 'text/csv; charset=utf-8',
      'a.tsv': 'text/tab-separated-values; charset=utf-8',
      'a.json': 'application/json',
      'a.jsonl': 'application/x-ndjson',
      'a.html': 'text/html; charset=utf-8',
      'a.htm': 'text/html; charset=utf-8',
      'a.xml': 'application/xml',
      'a.yaml': 'application/yaml',
      'a.yml': 'application/yaml',
      'a.py': 'text/x-python; charset=utf-8',
      'a.js': 'text/javascript; charset=utf-8',
      'a.ts': 'text/plain; charset=utf-8',
      'a.sql': 'application/sql',
      'a.png': 'image/png',
      'a.jpg': 'image/jpeg',
      'a.jpeg': 'image/jpeg',
      'a.gif': 'image/gif',
      'a.webp': 'image/webp',
      'a.svg': 'image/svg+xml',
      'a.pdf': 'application/pdf',
      'a.zip': 'application/zip',
      'a.tar.gz': 'application/gzip',
      'a.xlsx': 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
      'a.xls': 'application/vnd.ms-excel',
      'a.docx': 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
      'a.parquet': 'application/vnd.apache.parquet',
      'a.exe': 'application/octet-stream',
      '.env': 'application/octet-stream',
    };
    for (const [name, type] of Object.entries(table)) {
      expect(contentTypeFor(name), name).toBe(type);
      expect(mediaTypeFor(name), name).toBe(type.split(';')[0]);
    }
  });

  it('show only raster images and PDF inline; HTML, SVG and scripts always download', () => {
    for (const name of ['a.png', 'a.JPG', 'a.jpeg', 'a.gif', 'a.webp', 'a.pdf']) expect(canShowInline(name), name).toBe(true);
    for (const name of ['a.svg', 'a.html', 'a.js', 'a.txt', 'a.bin']) expect(canShowInline(name), name).toBe(false);
  });

  it('keep RFC 5987 attribute characters in filename*, percent-encode the rest, and replace quotes and controls in the fallback', () => {
    expect(contentDisposition("Az09!#$&+-.^_`|~", 'inline')).toBe(`inline; filename="Az09!#$&+-.^_\`|~"; filename*=UTF-8''Az09!#$&+-.^_\`|~`);
    expect(contentDisposition('a "b"\\c\x01.txt')).toBe(`attachment; filename="a _b__c_.txt"; filename*=UTF-8''a%20%22b%22%5Cc%01.txt`);
  });
});

describe('upload wording', () => {
  it('names the size limit in bytes, KiB or MiB, with one decimal only when needed', () => {
    const message = (n: number) => tooLarge(n).message;
    expect(message(512)).toBe('The file is larger than the upload limit of 512 bytes.');
    expect(message(1023)).toBe('The file is larger than the upload limit of 1023 bytes.');
    expect(message(1024)).toBe('The file is larger than the upload limit of 1 KiB.');
    expect(message(1536)).toBe('The file is larger than the upload limit of 1.5 KiB.');
    expect(message(1024 * 1024)).toBe('The file is larger than the upload limit of 1 MiB.');
    expect(message(1.5 * 1024 * 1024)).toBe('The file is larger than the upload limit of 1.5 MiB.');
    expect(tooLarge(1).code).toBe('FILE_5002');
  });

  it('undoes only the form encoding browsers use for quotes, CR and LF in file names', () => {
    expect(unescapeFormName('a%22b%0D%0ac%0d%0A.txt')).toBe('a"b\r\nc\r\n.txt');
    expect(unescapeFormName('100%25 %41.txt')).toBe('100%25 %41.txt');
  });
});
