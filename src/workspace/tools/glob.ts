/**
 * Glob patterns for `search_files`: `*` (within a name), `**` (any depth), `?`, `[abc]`, `{a,b}`.
 * A pattern without `/` matches file names at any depth (like `find -name`); one with `/`
 * matches the path relative to the search folder.
 */

function escapeChar(ch: string): string {
  return ch.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

/** Translates a glob to an anchored regular expression. Unbalanced brackets are taken literally. */
export function globToRegExp(pattern: string): RegExp {
  let out = '';
  let braceDepth = 0;
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i]!;
    if (ch === '*') {
      if (pattern[i + 1] === '*') {
        // `**/` matches zero or more folders; a bare `**` matches anything.
        if (pattern[i + 2] === '/') {
          out += '(?:.*/)?';
          i += 2;
        } else {
          out += '.*';
          i += 1;
        }
      } else {
        out += '[^/]*';
      }
    } else if (ch === '?') {
      out += '[^/]';
    } else if (ch === '[') {
      const close = pattern.indexOf(']', i + 2);
      if (close < 0) {
        out += '\\[';
        continue;
      }
      // A `]` right after `[` is a member (POSIX); in a JS class it must be escaped, as must `\`.
      let body = pattern.slice(i + 1, close).replace(/[\\\]]/g, '\\$&');
      if (body.startsWith('!')) body = `^${body.slice(1)}`;
      out += `[${body}]`;
      i = close;
    } else if (ch === '{') {
      braceDepth++;
      out += '(?:';
    } else if (ch === '}' && braceDepth > 0) {
      braceDepth--;
      out += ')';
    } else if (ch === ',' && braceDepth > 0) {
      out += '|';
    } else {
      out += escapeChar(ch);
    }
  }
  out += ')'.repeat(braceDepth);
  return new RegExp(`^${out}$`);
}

/** A matcher for relative paths (`/`-separated) under the search folder. */
export function globMatcher(pattern: string): (relativePath: string) => boolean {
  const regex = globToRegExp(pattern);
  if (pattern.includes('/')) return (relativePath) => regex.test(relativePath);
  return (relativePath) => regex.test(relativePath.slice(relativePath.lastIndexOf('/') + 1));
}
