/**
 * Hostile paths: traversal in every spelling (plain, percent-encoded once or twice, backslashes,
 * overlong), NUL, unicode, absolute and drive paths, very long names — and aimed at user B's file,
 * which sits next to user A's session folder (`DATA_DIR/sessions/{B_SESSION}/input/secret-notes.txt`).
 */
import fc from 'fast-check';
import { hostileString } from './arbitraries.js';

const SEGMENTS = [
  '..',
  '.',
  '',
  '...',
  '%2e%2e',
  '%2E%2E',
  '%252e%252e',
  '.%2e',
  '..%00',
  '..%c0%af',
  '%c0%ae%c0%ae',
  '..\\..',
  '\u2024\u2024', // one-dot leaders that look like ..
  '\uff0e\uff0e', // full-width dots
  'input',
  'output',
  'sub',
  'a.txt',
  'notes.txt',
  'secret-notes.txt',
  '{B_SESSION}',
  '{A_SESSION}',
  'sessions',
  'etc',
  'passwd',
  '~',
  'con',
  'a\u0000b',
  'é',
  '\ud800',
  'x'.repeat(256),
  '.pulp-tmp-x',
];
const SEPARATORS = ['/', '/', '/', '\\', '//', '%2f', '%2F', '%5c', '%252f'];
const PREFIXES = ['', '', '', '/', '//', 'C:\\', 'file:', './', '../', '../../', '../../../'];

const segment = (): fc.Arbitrary<string> => fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...SEGMENTS) }, { weight: 1, arbitrary: hostileString() });

/** A path of one to six segments with mixed separators, or one aimed straight at B's file. */
export function hostilePath(): fc.Arbitrary<string> {
  const built = fc
    .tuple(fc.constantFrom(...PREFIXES), fc.array(fc.tuple(segment(), fc.constantFrom(...SEPARATORS)), { minLength: 1, maxLength: 6 }))
    .map(([prefix, parts]) => prefix + parts.map(([s, sep], i) => (i === 0 ? s : sep + s)).join(''));
  const atB = fc.constantFrom(
    '../{B_SESSION}/input/secret-notes.txt',
    '../../{B_SESSION}/input/secret-notes.txt',
    'input/../../{B_SESSION}/input/secret-notes.txt',
    '%2e%2e/{B_SESSION}/input/secret-notes.txt',
    '..%2f..%2f{B_SESSION}%2finput%2fsecret-notes.txt',
    '/{B_SESSION}/input/secret-notes.txt',
  );
  return fc.oneof(
    { weight: 6, arbitrary: built },
    { weight: 2, arbitrary: atB },
    { weight: 1, arbitrary: fc.integer({ min: 1, max: 800 }).map((n) => 'a/'.repeat(n)) },
    { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 30 }) },
  );
}
