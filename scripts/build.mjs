#!/usr/bin/env node
/**
 * Builds what `npm start` runs: the server (src/ → dist/, one JavaScript file per TypeScript file,
 * plus the SQL migrations) and the web client (web/src → web/dist: the main bundle, lazily loaded
 * chunks under chunks/ for the highlighter and KaTeX, KaTeX's stylesheet and fonts, the static files).
 *
 * Run by `npm ci` (postinstall) and by `npm start` (prestart), so a user never runs a build step by
 * hand. Type checking is `npm run typecheck`'s job; this only transpiles, in well under a second.
 *
 * Two rules keep a running server safe while another process builds from the same checkout:
 * - every output file is written to a temporary name and renamed over the old one, so a server
 *   serving web/dist or loading a module lazily sees the old file or the new one, never a
 *   half-written one; web/dist never loses a file (a page loaded before a rebuild still finds its
 *   chunks), while dist/ drops files whose source is gone (a removed migration must not run);
 * - nothing is rebuilt when nothing changed: a stamp of the sources' contents is kept beside each
 *   output, and a build whose stamp matches is skipped (`--force` rebuilds anyway).
 */
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const STAMP = '.build-stamp';

/** Every file under `dir` (relative paths, sorted), or [] when it does not exist. */
async function filesUnder(dir) {
  try {
    const names = await readdir(dir, { recursive: true, withFileTypes: true });
    return names
      .filter((entry) => entry.isFile())
      .map((entry) => path.relative(dir, path.join(entry.parentPath, entry.name)))
      .sort();
  } catch (err) {
    if (err.code === 'ENOENT') return [];
    throw err;
  }
}

/** A hash of the contents (and names) of the given files, with the builder's version. */
async function stampOf(files) {
  const hash = createHash('sha256');
  const esbuild = JSON.parse(await readFile(path.join(ROOT, 'node_modules/esbuild/package.json'), 'utf8'));
  hash.update(`esbuild ${esbuild.version}\n`);
  for (const file of files) {
    hash.update(`${path.relative(ROOT, file)}\n`);
    hash.update(await readFile(file));
  }
  return hash.digest('hex');
}

/** Writes `contents` to `file` by renaming a temporary file over it. */
async function writeAtomically(file, contents) {
  await mkdir(path.dirname(file), { recursive: true });
  const temporary = `${file}.${process.pid}.tmp`;
  await writeFile(temporary, contents);
  await rename(temporary, file);
}

async function readStamp(outDir) {
  try {
    return (await readFile(path.join(outDir, STAMP), 'utf8')).trim();
  } catch {
    return undefined;
  }
}

/**
 * Builds one output unless its stamp is current. `produce` returns the files to write as
 * [relative path, contents] pairs; they are written atomically, then the stamp.
 */
async function buildOutput({ name, sources, outDir, produce, force, prune = false }) {
  const stamp = await stampOf(sources);
  if (!force && (await readStamp(outDir)) === stamp) return { name, skipped: true };
  const started = Date.now();
  const outputs = await produce();
  await Promise.all(outputs.map(([relative, contents]) => writeAtomically(path.join(outDir, relative), contents)));
  if (prune) {
    const produced = new Set([STAMP, ...outputs.map(([relative]) => path.normalize(relative))]);
    const stale = (await filesUnder(outDir)).filter((f) => !produced.has(f) && !f.endsWith('.tmp'));
    await Promise.all(stale.map((f) => rm(path.join(outDir, f), { force: true })));
  }
  await writeAtomically(path.join(outDir, STAMP), `${stamp}\n`);
  return { name, skipped: false, ms: Date.now() - started, files: outputs.length };
}

/** The server: src/**\/*.ts transpiled one to one (ESM, source maps), and the SQL migrations. */
async function serverBuild(force) {
  const srcDir = path.join(ROOT, 'src');
  const outDir = path.join(ROOT, 'dist');
  const files = (await filesUnder(srcDir)).filter((f) => !f.endsWith('.md'));
  const typescript = files.filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'));
  const copied = files.filter((f) => f.endsWith('.sql'));
  return buildOutput({
    name: 'server',
    sources: [...files.map((f) => path.join(srcDir, f)), path.join(ROOT, 'package.json')],
    outDir,
    force,
    // A file whose source is gone must go too: a removed migration left in dist/ would be applied.
    // A running server has loaded its modules and read its migrations at start.
    prune: true,
    produce: async () => {
      const result = await build({
        entryPoints: typescript.map((f) => path.join(srcDir, f)),
        outdir: outDir,
        outbase: srcDir,
        bundle: false,
        format: 'esm',
        platform: 'node',
        target: ['node22'],
        sourcemap: 'linked',
        write: false,
        logLevel: 'warning',
      });
      const emitted = result.outputFiles.map((file) => [path.relative(outDir, file.path), file.contents]);
      const sql = await Promise.all(copied.map(async (f) => [f, await readFile(path.join(srcDir, f))]));
      return [...emitted, ...sql];
    },
  });
}

/** The main bundle's gzip size must stay under this; lazily loaded chunks do not count. */
export const MAIN_BUNDLE_GZIP_LIMIT = 250 * 1024;

/** The web client: the main bundle, lazy chunks (code splitting), KaTeX's assets and the static files. */
async function webBuild(force) {
  const webDir = path.join(ROOT, 'web');
  const outDir = path.join(webDir, 'dist');
  const staticFiles = ['index.html', 'styles.css'];
  const katexDir = path.join(ROOT, 'node_modules/katex/dist');
  const katexFonts = (await filesUnder(path.join(katexDir, 'fonts'))).filter((f) => f.endsWith('.woff2'));
  const sources = (await filesUnder(path.join(webDir, 'src'))).map((f) => path.join(webDir, 'src', f));
  return buildOutput({
    name: 'web client',
    sources: [...sources, ...staticFiles.map((f) => path.join(webDir, f)), path.join(ROOT, 'package-lock.json')],
    outDir,
    force,
    produce: async () => {
      const result = await build({
        entryPoints: [path.join(webDir, 'src/main.ts')],
        outdir: outDir,
        entryNames: '[name]',
        chunkNames: 'chunks/[name]-[hash]',
        bundle: true,
        splitting: true,
        format: 'esm',
        platform: 'browser',
        target: ['es2022'],
        minify: true,
        sourcemap: true,
        legalComments: 'linked',
        write: false,
        logLevel: 'warning',
      });
      const bundle = result.outputFiles.map((file) => [path.relative(outDir, file.path), file.contents]);
      const copied = await Promise.all(staticFiles.map(async (f) => [f, await readFile(path.join(webDir, f))]));
      // KaTeX's stylesheet (its @font-face rules point at fonts/ beside it); only the woff2 fonts,
      // which every browser that runs the client reads.
      const katexCss = (await readFile(path.join(katexDir, 'katex.min.css'), 'utf8')).replace(/,url\(fonts\/[^)]+\.(?:woff|ttf)\) format\("(?:woff|truetype)"\)/g, '');
      const katex = [['katex/katex.min.css', katexCss], ...(await Promise.all(katexFonts.map(async (f) => [`katex/fonts/${f}`, await readFile(path.join(katexDir, 'fonts', f))])))];
      return [...bundle, ...copied, ...katex];
    },
  });
}

/**
 * The gzip size of the code every page load needs, in bytes: web/dist/main.js and the chunks it
 * imports statically (`import"./chunks/…"`), not the ones loaded by `import()` later.
 */
export async function mainBundleGzipBytes() {
  const distDir = path.join(ROOT, 'web/dist');
  const seen = new Set();
  let total = 0;
  const visit = async (relative) => {
    if (seen.has(relative)) return;
    seen.add(relative);
    const code = await readFile(path.join(distDir, relative));
    total += gzipSync(code, { level: 9 }).length;
    for (const m of code.toString('utf8').matchAll(/(?:import|from)\s*"\.\/((?:chunks\/)?[\w.-]+\.js)"/g)) {
      await visit(path.posix.join(path.posix.dirname(relative), m[1]));
    }
  };
  await visit('main.js');
  return total;
}

/** Builds the server and the web client; `only` limits it to one of them. */
export async function buildAll({ force = false, only } = {}) {
  const results = [];
  if (only !== 'web') results.push(await serverBuild(force));
  if (only !== 'server') results.push(await webBuild(force));
  return results;
}

async function reportBundleSize() {
  const bytes = await mainBundleGzipBytes();
  const kb = (n) => `${(n / 1024).toFixed(1)} KB`;
  console.log(`web client: main.js and its static imports are ${kb(bytes)} gzipped (limit ${kb(MAIN_BUNDLE_GZIP_LIMIT)}; the highlighter and KaTeX load later)`);
  if (bytes > MAIN_BUNDLE_GZIP_LIMIT) throw new Error(`the main bundle is ${kb(bytes)} gzipped, over the ${kb(MAIN_BUNDLE_GZIP_LIMIT)} limit`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const only = args.includes('--web') ? 'web' : args.includes('--server') ? 'server' : undefined;
  buildAll({ force: args.includes('--force'), only })
    .then((results) => {
      for (const r of results) {
        console.log(r.skipped ? `${r.name}: up to date` : `${r.name}: built ${r.files} files in ${r.ms} ms`);
      }
      if (only !== 'server') return reportBundleSize();
    })
    .catch((err) => {
      console.error(`build failed: ${err instanceof Error ? err.message : String(err)}`);
      process.exit(1);
    });
}
