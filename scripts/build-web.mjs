#!/usr/bin/env node
/**
 * Builds the web client: bundles web/src/main.ts with esbuild into web/dist/main.js and copies the
 * static files (index.html, styles.css) next to it. Run by `npm ci` (postinstall) and `npm start`
 * (prestart), so a user never runs a separate build step. Takes well under a second.
 */
import { copyFile, mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const WEB = path.join(ROOT, 'web');
const STATIC_FILES = ['index.html', 'styles.css'];

/** Builds the client into `outDir` (default web/dist); resolves with the output directory. */
export async function buildWeb(outDir = path.join(WEB, 'dist')) {
  await rm(outDir, { recursive: true, force: true });
  await mkdir(outDir, { recursive: true });
  await build({
    entryPoints: [path.join(WEB, 'src/main.ts')],
    outfile: path.join(outDir, 'main.js'),
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: ['es2022'],
    minify: true,
    sourcemap: true,
    legalComments: 'linked',
    logLevel: 'warning',
  });
  await Promise.all(STATIC_FILES.map((f) => copyFile(path.join(WEB, f), path.join(outDir, f))));
  return outDir;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const started = Date.now();
  buildWeb().then(
    (out) => console.log(`web client built in ${Date.now() - started} ms → ${path.relative(ROOT, out)}`),
    (err) => {
      console.error(`web client build failed: ${err instanceof Error ? err.message : String(err)}`);
      process.exit(1);
    },
  );
}
