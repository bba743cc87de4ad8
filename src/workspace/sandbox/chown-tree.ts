/**
 * Changes the owner of a folder and everything under it, never following symlinks (a link the
 * code planted must not make the server chown a host file). Used only when Pulp runs as root, to
 * hand a session's folders to the run's uid and back.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';

/** Entries walked at most; past that the rest keep their owner (the run may then not write them). */
const MAX_ENTRIES = 50_000;

export async function chownTree(dir: string, uid: number, gid: number): Promise<void> {
  let seen = 0;
  const walk = async (abs: string): Promise<void> => {
    await fs.lchown(abs, uid, gid);
    let dirents;
    try {
      dirents = await fs.readdir(abs, { withFileTypes: true });
    } catch {
      return;
    }
    for (const dirent of dirents) {
      if (++seen > MAX_ENTRIES) return;
      const child = path.join(abs, dirent.name);
      try {
        if (dirent.isDirectory()) await walk(child);
        else await fs.lchown(child, uid, gid);
      } catch {
        // Removed meanwhile: nothing to chown.
      }
    }
  };
  await walk(dir);
}
