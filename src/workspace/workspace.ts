/**
 * Session workspaces on disk: `DATA_DIR/sessions/{session_id}/` with `input/` (uploads)
 * and `output/` (what the agent and code write). Created with the session, removed with it.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { AppError } from '../errors/app-error.js';

/** The public session id format (`chat_` + 12 lowercase hex); anything else never becomes a path. */
export const SESSION_PUBLIC_ID = /^chat_[0-9a-f]{12}$/;

/**
 * Modes are set explicitly, whatever the umask: the session folder is the owner's only; `input/`
 * and `output/` are open for reading because the sandbox, run as another uid when Pulp runs as
 * root, reads them through bind mounts (which do not need the session folder to be traversable).
 */
const SESSION_DIR_MODE = 0o700;
const SANDBOX_DIR_MODE = 0o755;

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
    for (const dir of [this.sessionsDir, root]) await fs.mkdir(dir, { recursive: true, mode: SESSION_DIR_MODE });
    for (const dir of [path.join(root, 'input'), path.join(root, 'output')]) await fs.mkdir(dir, { recursive: true, mode: SANDBOX_DIR_MODE });
    await fs.chmod(root, SESSION_DIR_MODE);
    await Promise.all([path.join(root, 'input'), path.join(root, 'output')].map((d) => fs.chmod(d, SANDBOX_DIR_MODE)));
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
