/**
 * Session workspaces on disk: `DATA_DIR/sessions/{session_id}/` with `input/` (uploads)
 * and `output/` (what the agent and code write). Created with the session, removed with it.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { AppError } from '../errors/app-error.js';

/** The public session id format (`chat_` + 12 lowercase hex); anything else never becomes a path. */
export const SESSION_PUBLIC_ID = /^chat_[0-9a-f]{12}$/;

/** Folder modes are set explicitly so a strict umask cannot lock the sandbox out of `input/`. */
const DIR_MODE = 0o755;

export class Workspace {
  /** `DATA_DIR/sessions`. */
  readonly sessionsDir: string;

  constructor(dataDir: string) {
    this.sessionsDir = path.join(path.resolve(dataDir), 'sessions');
  }

  /**
   * The session directory for a public id. Throws `FILE_5004` for anything that is not a public
   * id, so a crafted id can never point elsewhere.
   */
  root(sessionPublicId: string): string {
    if (!SESSION_PUBLIC_ID.test(sessionPublicId)) throw new AppError('FILE_5004', 'Not a session id.');
    return path.join(this.sessionsDir, sessionPublicId);
  }

  /** Creates the session directory with `input/` and `output/` (idempotent); returns its path. */
  async create(sessionPublicId: string): Promise<string> {
    const root = this.root(sessionPublicId);
    for (const dir of [this.sessionsDir, root, path.join(root, 'input'), path.join(root, 'output')]) {
      await fs.mkdir(dir, { recursive: true, mode: DIR_MODE });
    }
    await Promise.all([root, path.join(root, 'input'), path.join(root, 'output')].map((d) => fs.chmod(d, DIR_MODE)));
    return root;
  }

  /** Removes the session directory and everything in it (no error when it is already gone). */
  async remove(sessionPublicId: string): Promise<void> {
    await fs.rm(this.root(sessionPublicId), { recursive: true, force: true, maxRetries: 3 });
  }
}

/** Builds the workspace manager for `DATA_DIR`. */
export function createWorkspace(dataDir: string): Workspace {
  return new Workspace(dataDir);
}
