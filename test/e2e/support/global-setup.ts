/** Builds the web client once before the browser tests, exactly as `npm run build:web` does. */
import { spawnSync } from 'node:child_process';
import path from 'node:path';

const ROOT = path.resolve(import.meta.dirname, '../../..');
const BUILD_TIMEOUT_MS = 60_000;

export default function setup(): void {
  const result = spawnSync(process.execPath, ['scripts/build-web.mjs'], { cwd: ROOT, encoding: 'utf8', timeout: BUILD_TIMEOUT_MS });
  if (result.status !== 0) throw new Error(`building the web client failed:\n${result.stdout}\n${result.stderr}`);
}
