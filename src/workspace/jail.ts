/**
 * The path jail: the one place that turns a path from a client or a model into a real
 * path inside a session directory. Every file route and every tool goes through it.
 *
 * Two steps: `parseRelativePath` checks the text (NUL bytes, absolute paths, Windows separators,
 * percent-encoded dots and separators, `..`, names of only dots, overlong names) and normalizes it;
 * `resolveInside` resolves symlinks on disk and refuses any real path that leaves the root.
 * Refusals are `AppError('FILE_5004')`; the message never shows host paths.
 */
import { constants, promises as fs } from 'node:fs';
import path from 'node:path';
import { AppError } from '../errors/app-error.js';

/** Longest single name in bytes (the common file-system limit). */
export const MAX_NAME_BYTES = 255;
/** Longest relative path in bytes (PATH_MAX). */
export const MAX_PATH_BYTES = 4096;

export const FOLDERS = ['input', 'output'] as const;
export type Folder = (typeof FOLDERS)[number];

const ENCODED_TRICK = /%(2e|2f|5c|00)/i;
const WINDOWS_DRIVE = /^[a-zA-Z]:/;
const ONLY_DOTS = /^\.+$/;
// C0 controls and DEL: harmless to the file system, but confusing in names a person reads.
// eslint-disable-next-line no-control-regex
const CONTROL_CHARS = /[\u0000-\u001f\u007f]/g;

function refuse(message: string): never {
  throw new AppError('FILE_5004', message);
}

/**
 * Checks a relative path's text and returns its normalized segments (`''` and `'.'` give `[]`).
 * Throws `FILE_5004` for NUL bytes, absolute or drive paths, backslashes, percent-encoded dots or
 * separators, `..`, names made only of dots, and names over 255 bytes or paths over 4096 bytes.
 */
export function parseRelativePath(input: unknown): string[] {
  if (typeof input !== 'string') refuse('The path must be a string.');
  if (input.includes('\0')) refuse('The path contains a NUL byte.');
  if (input.includes('\\')) refuse('Windows separators (\\) are not allowed in paths; use /.');
  if (ENCODED_TRICK.test(input)) refuse('Percent-encoded dots or separators are not allowed in paths.');
  if (input.startsWith('/') || WINDOWS_DRIVE.test(input)) refuse('Absolute paths are not allowed; use a path relative to the workspace.');
  if (Buffer.byteLength(input) > MAX_PATH_BYTES) refuse(`The path is longer than ${MAX_PATH_BYTES} bytes.`);
  const segments: string[] = [];
  for (const segment of input.split('/')) {
    if (segment === '' || segment === '.') continue;
    if (ONLY_DOTS.test(segment)) refuse('Path segments made only of dots (like "..") are not allowed.');
    if (Buffer.byteLength(segment) > MAX_NAME_BYTES) refuse(`A name in the path is longer than ${MAX_NAME_BYTES} bytes.`);
    segments.push(segment);
  }
  return segments;
}

/** `input` or `output`; anything else is refused with `FILE_5004`. */
export function parseFolder(input: unknown): Folder {
  if (input === 'input' || input === 'output') return input;
  refuse('The folder must be "input" or "output".');
}

/**
 * Reduces an uploaded file name to a safe base name: control characters become `_` and outer
 * spaces go; a name with a separator, a NUL byte or `%2f`-style tricks, a name of only dots, an
 * empty name or one over 255 bytes is refused with `FILE_5004` rather than silently renamed.
 */
export function safeUploadName(input: unknown): string {
  if (typeof input !== 'string') refuse('The upload has no file name.');
  if (input.includes('\0')) refuse('The file name contains a NUL byte.');
  if (input.includes('/') || input.includes('\\')) refuse('The file name must not contain / or \\.');
  if (ENCODED_TRICK.test(input)) refuse('Percent-encoded dots or separators are not allowed in file names.');
  const name = input.replace(CONTROL_CHARS, '_').trim();
  if (name === '') refuse('The file name is empty.');
  if (ONLY_DOTS.test(name)) refuse('A file name made only of dots is not allowed.');
  if (Buffer.byteLength(name) > MAX_NAME_BYTES) refuse(`The file name is longer than ${MAX_NAME_BYTES} bytes.`);
  return name;
}

/** True when `candidate` is `root` or below it (both already real, absolute paths). */
export function isInside(root: string, candidate: string): boolean {
  return candidate === root || candidate.startsWith(root.endsWith(path.sep) ? root : root + path.sep);
}

function errnoCode(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'code' in err ? String((err).code) : undefined;
}

export interface ResolvedPath {
  /** The real absolute path (symlinks resolved), inside the root. */
  real: string;
  /** Whether something exists there. */
  exists: boolean;
}

/**
 * Resolves `segments` under `rootReal` (a real path) following symlinks, and refuses any result
 * outside the root. A path that does not exist yet resolves through its deepest existing
 * ancestor; a dangling symlink on the way is refused, because writing through it would create a
 * file wherever it points.
 */
export async function resolveInside(rootReal: string, segments: readonly string[]): Promise<ResolvedPath> {
  // From the full path up: the deepest prefix that exists decides. Walking (rather than one
  // realpath) keeps a file that appears meanwhile — a concurrent upload — from looking broken.
  for (let i = segments.length; i >= 0; i--) {
    const prefix = path.join(rootReal, ...segments.slice(0, i));
    try {
      await fs.lstat(prefix);
    } catch (err) {
      // ELOOP: a link on the way loops; the walk up reaches that link and refuses it below.
      if (['ENOENT', 'ENOTDIR', 'ELOOP'].includes(errnoCode(err) ?? '')) continue;
      throw err;
    }
    let real: string;
    try {
      real = await fs.realpath(prefix);
    } catch (err) {
      // It exists as an entry but does not resolve: a dangling (or looping) symlink.
      if (['ENOENT', 'ENOTDIR', 'ELOOP'].includes(errnoCode(err) ?? '')) refuse('The path goes through a broken link.');
      throw err;
    }
    if (!isInside(rootReal, real)) refuse('The path leads outside the workspace.');
    if (i < segments.length && !(await fs.stat(real)).isDirectory()) refuse('The path goes through a file as if it were a folder.');
    return { real: path.join(real, ...segments.slice(i)), exists: i === segments.length };
  }
  return { real: rootReal, exists: true };
}

/**
 * Checks, after opening, that the open file really lives inside the root: closes the race where a
 * folder on the way is swapped for a symlink between `resolveInside` and `open` (the sandbox can
 * write `output/` while a route reads it). Linux only; elsewhere the check is skipped.
 */
export async function assertFdInside(fd: number, rootReal: string): Promise<void> {
  if (process.platform !== 'linux') return;
  const real = await fs.readlink(`/proc/self/fd/${fd}`);
  if (!isInside(rootReal, real)) refuse('The path leads outside the workspace.');
}

/** Opens a jailed regular file for reading without following a final symlink; checks it after opening. */
export async function openInsideForRead(real: string, rootReal: string): Promise<fs.FileHandle> {
  let handle: fs.FileHandle;
  try {
    handle = await fs.open(real, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch (err) {
    if (errnoCode(err) === 'ELOOP') refuse('The path is a symbolic link.');
    throw err;
  }
  try {
    await assertFdInside(handle.fd, rootReal);
    return handle;
  } catch (err) {
    await handle.close();
    throw err;
  }
}

/**
 * When the last segment names a symbolic link (whatever it points at, even nothing or somewhere
 * outside), the host path of the link itself, in its parent folder resolved through the jail;
 * otherwise undefined. Lets DELETE remove a link the sandbox left without ever touching its target.
 */
export async function symlinkInside(rootReal: string, segments: readonly string[]): Promise<string | undefined> {
  const name = segments.at(-1);
  if (name === undefined) return undefined;
  const parent = await resolveInside(rootReal, segments.slice(0, -1));
  if (!parent.exists) return undefined;
  const entry = path.join(parent.real, name);
  try {
    return (await fs.lstat(entry)).isSymbolicLink() ? entry : undefined;
  } catch (err) {
    if (['ENOENT', 'ENOTDIR'].includes(errnoCode(err) ?? '')) return undefined;
    throw err;
  }
}

/** The jail for one session directory: resolves relative paths to real paths inside it. */
export class WorkspaceJail {
  private rootRealPromise: Promise<string> | undefined;

  constructor(readonly root: string) {}

  /** The real path of the session directory (resolved once). */
  rootReal(): Promise<string> {
    return (this.rootRealPromise ??= fs.realpath(this.root));
  }

  /** Resolves a path relative to the session root (e.g. `output/chart.png`). */
  async resolve(relative: unknown): Promise<ResolvedPath & { segments: string[]; relative: string }> {
    const segments = parseRelativePath(relative);
    const resolved = await resolveInside(await this.rootReal(), segments);
    return { ...resolved, segments, relative: segments.join('/') };
  }
}

/** Maps file-system error codes to client errors without leaking host paths. */
export function toFileAppError(err: unknown, shownPath: string): AppError {
  if (err instanceof AppError) return err;
  switch (errnoCode(err)) {
    case 'ENOENT':
    case 'ENOTDIR':
      return new AppError('FILE_5001', `No file at "${shownPath}".`, undefined, { cause: err });
    case 'ELOOP':
      return new AppError('FILE_5004', `"${shownPath}" is a symbolic link.`, undefined, { cause: err });
    case 'EACCES':
    case 'EPERM':
      return new AppError('FILE_5004', `"${shownPath}" cannot be accessed.`, undefined, { cause: err });
    case 'EISDIR':
      return new AppError('FILE_5004', `"${shownPath}" is a folder, not a file.`, undefined, { cause: err });
    case 'ENAMETOOLONG':
      return new AppError('FILE_5004', 'The path is too long.', undefined, { cause: err });
    default:
      return new AppError('INT_9001', 'The file operation failed.', undefined, { cause: err });
  }
}

export { errnoCode };
