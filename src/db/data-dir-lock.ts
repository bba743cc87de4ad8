/**
 * The embedded database belongs to one process: PGlite on disk opened by two servers at once would
 * corrupt it. A lock file with the owner's pid guards it; a file left by a process that is gone is
 * taken over. Several servers need PostgreSQL (`DATABASE_URL`).
 */
import { openSync, readFileSync, rmSync, writeSync, closeSync } from 'node:fs';
import path from 'node:path';

export class DataDirInUseError extends Error {
  override name = this.constructor.name;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Takes `dir`'s lock for this process; returns the release function. */
export function lockDataDir(dir: string): () => void {
  const file = path.join(dir, 'pulp.lock');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(file, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return () => rmSync(file, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const owner = Number.parseInt(readFileSync(file, 'utf8'), 10);
      if (Number.isInteger(owner) && owner !== process.pid && alive(owner)) {
        throw new DataDirInUseError(
          `the embedded database in ${dir} is in use by another Pulp process (pid ${owner}); run one server per DATA_DIR, or set DATABASE_URL (PostgreSQL) to run several`,
        );
      }
      rmSync(file, { force: true });
    }
  }
  throw new DataDirInUseError(`could not take the lock on ${dir}`);
}
