/**
 * Which test files are unit tests, derived from what they import instead of kept in a list: a test
 * file is a unit test when nothing it imports — followed through the relative imports of test/ and
 * src/ — can start a real part: a database driver, a child process, or a network server or client
 * socket (the modules in REAL_PARTS). Everything else is an integration test. A new test of a pure
 * module is a unit test without anyone listing it; one that reaches a database is not.
 *
 * Type-only imports do not count (they load nothing). Reads a few hundred small files: ~20 ms.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

/** The modules that start real parts. `node:net` is not one: src/config uses it for `isIP`. */
const REAL_PARTS = /^(?:node:)?(?:child_process|http|https|http2|dgram)$|^(?:pg|@electric-sql\/pglite|fastify|ws|@modelcontextprotocol\/sdk)(?:\/|$)/;
/** `import … from 'x'`, `import 'x'`, `export … from 'x'`, but not `import type` / `export type`. */
const STATIC_IMPORT = /^\s*(?:import|export)\s+(?!type\s)(?:[^'";]*?\bfrom\s*)?['"]([^'"]+)['"]/gm;
const DYNAMIC_IMPORT = /\bimport\(\s*['"]([^'"]+)['"]\s*\)/g;

/**
 * Returns, for one file, the chain of imports that reaches a real part (e.g.
 * `test/chat/harness.ts > ws`), or undefined when none does.
 */
function realPartReachedBy(root: string): (file: string) => string | undefined {
  const known = new Map<string, string | undefined>();
  /** `cut`: the answer skipped a file still being visited (an import cycle), so it is not kept. */
  const visit = (file: string, visiting: Set<string>): { reached: string | undefined; cut: boolean } => {
    if (known.has(file)) return { reached: known.get(file), cut: false };
    if (visiting.has(file)) return { reached: undefined, cut: true };
    visiting.add(file);
    const source = readFileSync(file, 'utf8');
    let reached: string | undefined;
    let cut = false;
    for (const [, specifier] of [...source.matchAll(STATIC_IMPORT), ...source.matchAll(DYNAMIC_IMPORT)]) {
      if (!specifier) continue;
      if (REAL_PARTS.test(specifier)) {
        reached = specifier;
        break;
      }
      if (!specifier.startsWith('.')) continue;
      const target = path.resolve(path.dirname(file), specifier).replace(/\.js$/, '.ts');
      if (!existsSync(target)) continue;
      const below = visit(target, visiting);
      cut ||= below.cut;
      if (below.reached !== undefined) {
        reached = `${path.relative(root, target)} > ${below.reached}`;
        break;
      }
    }
    visiting.delete(file);
    if (reached !== undefined || !cut) known.set(file, reached);
    return { reached, cut: reached === undefined && cut };
  };
  return (file) => visit(file, new Set()).reached;
}

/** Every `*.test.ts` under `test/` except the browser tests, as root-relative paths. */
export function testFiles(root: string): string[] {
  return readdirSync(path.join(root, 'test'), { recursive: true, encoding: 'utf8' })
    .filter((name) => name.endsWith('.test.ts') && !name.startsWith(`e2e${path.sep}`))
    .map((name) => path.posix.join('test', ...name.split(path.sep)))
    .sort();
}

/** The unit tests (root-relative paths), and why each other test file is an integration test. */
export function classifyTests(root: string): { unit: string[]; integration: Map<string, string> } {
  const reachedBy = realPartReachedBy(root);
  const unit: string[] = [];
  const integration = new Map<string, string>();
  for (const file of testFiles(root)) {
    const reached = reachedBy(path.join(root, file));
    if (reached === undefined) unit.push(file);
    else integration.set(file, reached);
  }
  return { unit, integration };
}
