#!/usr/bin/env node
/**
 * Builds what `npm start` runs: the server (src/ → dist/, one JavaScript file per TypeScript file,
 * plus the SQL migrations) and the web client (web/src → web/dist, one bundle plus the static files).
 *
 * Run by `npm ci` (postinstall) and by `npm start` (prestart), so a user never runs a build step by
 * hand. Type checking is `npm run typecheck`'s job; this only transpiles, in well under a second.
 *
 * Two rules keep a running server safe while another process builds from the same checkout:
 * - nothing is deleted: every output file is written to a temporary name and renamed over the old
 *   one, so a server serving web/dist or loading a module lazily sees the old file or the new one,
 *   never a missing or half-written one;
 * - nothing is rebuilt when nothing changed: a stamp of the sources' contents is kept beside each
 *   output, and a build whose stamp matches is skipped (`--force` rebuilds anyway).
 */
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises';
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
async function buildOutput({ name, sources, outDir, produce, force }) {
  const stamp = await stampOf(sources);
  if (!force && (await readStamp(outDir)) === stamp) return { name, skipped: true };
  const started = Date.now();
  const outputs = await produce();
  await Promise.all(outputs.map(([relative, contents]) => writeAtomically(path.join(outDir, relative), contents)));
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

/** The web client: one minified bundle and the static files it needs. */
async function webBuild(force) {
  const webDir = path.join(ROOT, 'web');
  const outDir = path.join(webDir, 'dist');
  const staticFiles = ['index.html', 'styles.css'];
  const sources = (await filesUnder(path.join(webDir, 'src'))).map((f) => path.join(webDir, 'src', f));
  return buildOutput({
    name: 'web client',
    sources: [...sources, ...staticFiles.map((f) => path.join(webDir, f))],
    outDir,
    force,
    produce: async () => {
      const result = await build({
        entryPoints: [path.join(webDir, 'src/main.ts')],
        outfile: path.join(outDir, 'main.js'),
        bundle: true,
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
      return [...bundle, ...copied];
    },
  });
}

/** Builds the server and the web client; `only` limits it to one of them. */
export async function buildAll({ force = false, only } = {}) {
  const results = [];
  if (only !== 'web') results.push(await serverBuild(force));
  if (only !== 'server') results.push(await webBuild(force));
  return results;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const only = args.includes('--web') ? 'web' : args.includes('--server') ? 'server' : undefined;
  buildAll({ force: args.includes('--force'), only }).then(
    (results) => {
      for (const r of results) {
        console.log(r.skipped ? `${r.name}: up to date` : `${r.name}: built ${r.files} files in ${r.ms} ms`);
      }
    },
    (err) => {
      console.error(`build failed: ${err instanceof Error ? err.message : String(err)}`);
      process.exit(1);
    },
  );
}
