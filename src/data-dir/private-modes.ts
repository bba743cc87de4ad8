/**
 * DATA_DIR holds the database, every session's files and the MCP configuration: nothing in it is
 * for other local users. New entries are private because the server runs with umask 077
 * (src/serve.ts) — except PGlite's files, which it creates 0666 whatever the umask;
 * `makeDataDirPrivate` fixes those, and a directory made before or loosened by hand, at start
 * (before and after the database opens) and after shutdown.
 *
 * Directories become 0700 and files lose every group and other bit — except inside a session's
 * `input/` and `output/`, which the code sandbox reads as another uid when Pulp runs as root
 * (src/workspace): there only group and other write bits go (0755 / 0644 stay). Those folders are
 * still private, since their session folder is 0700.
 *
 * The walk never follows symlinks (a link planted in output/ must not make the server chmod a host
 * file) and stops after `MAX_ENTRIES`.
 */
import type { Dirent, Stats } from 'node:fs';
import { promises as fs } from 'node:fs';
import path from 'node:path';

export const MAX_ENTRIES = 200_000;
const MAX_DEPTH = 64;
const SANDBOX_FOLDERS = new Set(['input', 'output']);

export interface TightenResult {
  /** Entries whose mode was changed. */
  tightened: number;
  /** Entries whose mode could not be changed (not ours, removed meanwhile). */
  failed: number;
  /** Whether the walk stopped at MAX_ENTRIES. */
  truncated: boolean;
}

/** The mode an entry should have, or undefined when it already is private enough. */
function wantedMode(stats: Stats, sandboxShared: boolean): number | undefined {
  const mode = stats.mode & 0o7777;
  if (sandboxShared) return mode & 0o022 ? mode & ~0o022 : undefined;
  if (stats.isDirectory()) return mode === 0o700 ? undefined : 0o700;
  return mode & 0o077 ? mode & ~0o077 : undefined;
}

/** Creates `dataDir` (0700) if missing and tightens the modes of everything in it. */
export async function makeDataDirPrivate(dataDir: string): Promise<TightenResult> {
  await fs.mkdir(dataDir, { recursive: true, mode: 0o700 });
  const result: TightenResult = { tightened: 0, failed: 0, truncated: false };
  let seen = 0;

  const fix = async (abs: string, stats: Stats, sandboxShared: boolean): Promise<void> => {
    const mode = wantedMode(stats, sandboxShared);
    if (mode === undefined) return;
    try {
      await fs.chmod(abs, mode);
      result.tightened++;
    } catch {
      result.failed++;
    }
  };

  // `relative` is the path below DATA_DIR as segments: sessions/<id>/input/… is shared with the sandbox.
  const walk = async (abs: string, relative: string[]): Promise<void> => {
    let stats: Stats;
    try {
      stats = await fs.lstat(abs);
    } catch {
      return; // removed meanwhile
    }
    if (stats.isSymbolicLink() || !(stats.isDirectory() || stats.isFile())) return;
    const sandboxShared = relative.length >= 3 && relative[0] === 'sessions' && SANDBOX_FOLDERS.has(relative[2]!);
    await fix(abs, stats, sandboxShared);
    if (!stats.isDirectory() || relative.length >= MAX_DEPTH) return;
    let dirents: Dirent[];
    try {
      dirents = await fs.readdir(abs, { withFileTypes: true });
    } catch {
      return;
    }
    for (const dirent of dirents) {
      if (++seen > MAX_ENTRIES) {
        result.truncated = true;
        return;
      }
      await walk(path.join(abs, dirent.name), [...relative, dirent.name]);
    }
  };

  await walk(dataDir, []);
  return result;
}
