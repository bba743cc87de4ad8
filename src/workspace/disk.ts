/**
 * Disk operations shared by the routes and the tools, all on paths the jail already resolved:
 * listing a folder, writing a file atomically (temp file + rename), and the temp-file names.
 */
import { randomBytes } from 'node:crypto';
import { constants, promises as fs } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { assertFdInside, isInside } from './jail.js';

export const EntrySchema = z.object({
  name: z.string(),
  type: z.enum(['file', 'folder']),
  size: z.number().int(),
  modified: z.string(),
  path: z.string(),
});
export type Entry = z.infer<typeof EntrySchema>;

/** Files being written are named like this; listings never show them. */
export const TEMP_PREFIX = '.pulp-tmp-';
/** Regular files get this mode so the sandbox (another uid when Pulp runs as root) can read uploads. */
export const FILE_MODE = 0o644;

export function tempNameIn(dir: string): string {
  return path.join(dir, `${TEMP_PREFIX}${randomBytes(8).toString('hex')}`);
}

/**
 * Lists one folder. Symlinks are followed only when they stay inside the root (others are left
 * out); folders come first, then names in order. `relativeBase` prefixes each entry's `path`.
 */
export async function listFolder(dirReal: string, rootReal: string, relativeBase: string): Promise<Entry[]> {
  const dirents = await fs.readdir(dirReal, { withFileTypes: true });
  const entries: Entry[] = [];
  for (const dirent of dirents) {
    if (dirent.name.startsWith(TEMP_PREFIX)) continue;
    const full = path.join(dirReal, dirent.name);
    try {
      if (dirent.isSymbolicLink()) {
        const target = await fs.realpath(full);
        if (!isInside(rootReal, target)) continue;
      }
      const stat = await fs.stat(full);
      if (!stat.isFile() && !stat.isDirectory()) continue;
      entries.push({
        name: dirent.name,
        type: stat.isDirectory() ? 'folder' : 'file',
        size: stat.isDirectory() ? 0 : stat.size,
        modified: stat.mtime.toISOString(),
        path: relativeBase ? `${relativeBase}/${dirent.name}` : dirent.name,
      });
    } catch {
      // Vanished while listing, or a broken link: not part of the listing.
    }
  }
  return entries.sort((a, b) => (a.type === b.type ? (a.name < b.name ? -1 : a.name > b.name ? 1 : 0) : a.type === 'folder' ? -1 : 1));
}

/**
 * Writes `data` to `targetReal` atomically: a temp file in the same folder, then a rename that
 * replaces the old file (or a symlink in its place, which is never followed). Returns the size.
 */
export async function writeFileAtomic(targetReal: string, data: string | Uint8Array, rootReal: string): Promise<number> {
  const dir = path.dirname(targetReal);
  await fs.mkdir(dir, { recursive: true, mode: 0o755 });
  const temp = tempNameIn(dir);
  const handle = await fs.open(temp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, FILE_MODE);
  try {
    await assertFdInside(handle.fd, rootReal);
    await handle.writeFile(data);
    await handle.chmod(FILE_MODE);
  } catch (err) {
    await handle.close();
    await fs.rm(temp, { force: true });
    throw err;
  }
  await handle.close();
  try {
    await fs.rename(temp, targetReal);
  } catch (err) {
    await fs.rm(temp, { force: true });
    throw err;
  }
  const stat = await fs.stat(targetReal);
  return stat.size;
}
