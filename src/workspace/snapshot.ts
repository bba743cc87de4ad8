/**
 * A snapshot of the regular files under a folder (path → size and mtime), without following
 * symlinks. The sandbox compares two snapshots to report what a run wrote; the tools use one to
 * bring the `files` rows of `output/` in step with the disk after a run.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { TEMP_PREFIX } from './disk.js';

export interface FileStamp {
  size: number;
  mtimeMs: number;
}

/** Walks at most this many entries: a run that made millions of files is not listed in full. */
export const MAX_SNAPSHOT_ENTRIES = 10_000;

/** Regular files under `dir`, keyed by `/`-separated path relative to `dir`. */
export async function snapshotFiles(dir: string, maxEntries = MAX_SNAPSHOT_ENTRIES): Promise<Map<string, FileStamp>> {
  const files = new Map<string, FileStamp>();
  let seen = 0;
  const walk = async (abs: string, rel: string): Promise<void> => {
    let dirents;
    try {
      dirents = await fs.readdir(abs, { withFileTypes: true });
    } catch {
      return;
    }
    for (const dirent of dirents) {
      if (++seen > maxEntries) return;
      if (dirent.name.startsWith(TEMP_PREFIX)) continue;
      const childAbs = path.join(abs, dirent.name);
      const childRel = rel ? `${rel}/${dirent.name}` : dirent.name;
      if (dirent.isDirectory()) await walk(childAbs, childRel);
      else if (dirent.isFile()) {
        try {
          const stat = await fs.lstat(childAbs);
          files.set(childRel, { size: stat.size, mtimeMs: stat.mtimeMs });
        } catch {
          // Gone while walking.
        }
      }
    }
  };
  await walk(dir, '');
  return files;
}

/** Paths in `after` that are new or changed since `before`. */
export function changedFiles(before: Map<string, FileStamp>, after: Map<string, FileStamp>): string[] {
  const changed: string[] = [];
  for (const [rel, stamp] of after) {
    const old = before.get(rel);
    if (!old || old.size !== stamp.size || old.mtimeMs !== stamp.mtimeMs) changed.push(rel);
  }
  return changed.sort();
}
