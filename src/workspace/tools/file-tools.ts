/**
 * The file operations behind the built-in tools, framework-free: each takes the jail and
 * validated arguments and returns the result object, or throws an `AppError` the tool layer turns
 * into a JSON error. Paths are relative to the session root (`input/…`, `output/…`).
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { AppError } from '../../errors/app-error.js';
import type { Queryable } from '../../db/database.js';
import { mediaTypeFor } from '../content-type.js';
import { listFolder, TEMP_PREFIX, writeFileAtomic, type Entry } from '../disk.js';
import { upsertFileRow } from '../files-table.js';
import { openInsideForRead, parseFolder, parseRelativePath, resolveInside, type WorkspaceJail } from '../jail.js';
import { applyEdits, type Edit } from './apply-edits.js';
import { isBinaryDocument } from '../../documents/convert/formats.js';
import { globMatcher } from './glob.js';
import { decodeText, MAX_READ_BYTES, selectText, type ReadSelection } from './read-text.js';
import { formatMatch, matchingLines, MAX_SEARCH_TEXT_CHARS } from './search-text.js';
import { unifiedDiff } from './unified-diff.js';

/** Entries `search_files` walks at most before it says `truncated`. */
export const MAX_SEARCH_SCAN = 20_000;
export const MAX_SEARCH_RESULTS = 1000;
/** Characters of `search_files`' `contains` at most. */
export const MAX_CONTAINS_CHARS = 200;

export interface FileToolContext {
  jail: WorkspaceJail;
  db: Queryable;
  sessionUuid: string;
  /** The converted text of uploaded documents (src/documents), which `read_file` shows for PDFs, Word files... */
  documents?: SessionDocumentTexts | undefined;
}

export interface SessionDocumentTexts {
  text(folder: string, filename: string): Promise<{ state: { conversion: { status: string; error?: string } }; text: string | null } | undefined>;
}

/** The converted text of a PDF, Office or EPUB file, or undefined for other files. */
async function convertedText(ctx: FileToolContext, segments: readonly string[], shown: string): Promise<string | undefined> {
  const [folder, ...rest] = segments;
  if (!ctx.documents || (folder !== 'input' && folder !== 'output') || rest.length === 0 || !isBinaryDocument(shown)) return undefined;
  const found = await ctx.documents.text(folder, rest.join('/'));
  if (!found) return undefined;
  const { status, error } = found.state.conversion;
  if (status === 'pending') throw new AppError('FILE_5010', `"${shown}" is still being converted to text; try again in a moment.`);
  if (status !== 'done' || found.text === null) throw new AppError('FILE_5011', `"${shown}" could not be read as text: ${error ?? status}`);
  return found.text;
}

async function existing(ctx: FileToolContext, relative: string) {
  const resolved = await ctx.jail.resolve(relative);
  const shown = resolved.relative || '.';
  if (!resolved.exists) throw new AppError('FILE_5001', `No file or folder at "${shown}".`);
  return { ...resolved, shown };
}

/** Keeps the `files` row of a written file in step, when it sits in input/ or output/. */
async function recordWrite(ctx: FileToolContext, segments: string[], size: number): Promise<void> {
  const [folder, ...rest] = segments;
  if ((folder !== 'input' && folder !== 'output') || rest.length === 0) return;
  await upsertFileRow(ctx.db, { sessionUuid: ctx.sessionUuid, folder, filename: rest.join('/'), contentType: mediaTypeFor(rest.join('/')), sizeBytes: size });
}

export async function listDirectory(ctx: FileToolContext, relative: string): Promise<{ path: string; entries: Entry[]; count: number }> {
  const dir = await existing(ctx, relative);
  if (!(await fs.stat(dir.real)).isDirectory()) throw new AppError('FILE_5004', `"${dir.shown}" is a file, not a folder.`);
  const entries = await listFolder(dir.real, await ctx.jail.rootReal(), dir.relative);
  return { path: dir.shown, entries, count: entries.length };
}

export async function readFile(ctx: FileToolContext, relative: string, head?: number | null, tail?: number | null): Promise<ReadSelection & { path: string; size: number }> {
  const file = await existing(ctx, relative);
  const handle = await openInsideForRead(file.real, await ctx.jail.rootReal());
  try {
    const stat = await handle.stat();
    if (!stat.isFile()) throw new AppError('FILE_5004', `"${file.shown}" is a folder; use list_directory.`);
    const converted = await convertedText(ctx, file.segments, file.shown);
    if (converted !== undefined) return { path: file.shown, size: stat.size, ...selectText(converted, { head, tail }) };
    if (stat.size > MAX_READ_BYTES) {
      throw new AppError('FILE_5004', `"${file.shown}" is ${stat.size} bytes, too large to read here; process it with execute_python_code.`);
    }
    const text = decodeText(await handle.readFile(), file.shown);
    return { path: file.shown, size: stat.size, ...selectText(text, { head, tail }) };
  } finally {
    await handle.close();
  }
}

/**
 * Files whose path matches the glob `pattern`; with `contains`, the lines of those files' text that
 * contain it instead (PDF, Office and EPUB files through their converted text, with the page).
 */
export async function searchFiles(
  ctx: FileToolContext,
  pattern: string,
  relative: string,
  maxResults: number,
  contains?: string | null,
): Promise<{ pattern: string; path: string; matches: string[]; count: number; truncated: boolean }> {
  // The pattern is checked like a path: no `..`, no absolute or encoded tricks.
  parseRelativePath(pattern);
  if (pattern.trim() === '') throw new AppError('FILE_5004', 'The pattern is empty.');
  if (contains !== undefined && contains !== null) {
    if (contains.trim() === '') throw new AppError('FILE_5004', 'The text to find is empty.');
    if (contains.length > MAX_CONTAINS_CHARS) throw new AppError('FILE_5004', `The text to find is longer than ${MAX_CONTAINS_CHARS} characters.`);
  }
  const base = await existing(ctx, relative);
  if (!(await fs.stat(base.real)).isDirectory()) throw new AppError('FILE_5004', `"${base.shown}" is a file, not a folder.`);
  const matches = globMatcher(pattern.replace(/^\.\//, ''));
  const limit = Math.min(Math.max(1, maxResults), MAX_SEARCH_RESULTS);
  const found: string[] = [];
  let scanned = 0;
  let textChars = 0;
  let truncated = false;
  /** The lines of one file containing `contains`, as many as the results still allow. */
  const searchInside = async (abs: string, shown: string): Promise<void> => {
    const text = await fileText(ctx, abs, shown);
    if (text === undefined) return;
    textChars += text.length;
    if (textChars > MAX_SEARCH_TEXT_CHARS) {
      truncated = true;
      return;
    }
    // One more than the room left: a further match means the answer is cut.
    const lines = matchingLines(text, contains!, limit - found.length + 1);
    for (const line of lines) {
      if (found.length >= limit) {
        truncated = true;
        return;
      }
      found.push(formatMatch(shown, line));
    }
  };
  const walk = async (abs: string, rel: string): Promise<void> => {
    const dirents = await fs.readdir(abs, { withFileTypes: true }).catch(() => []);
    dirents.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const dirent of dirents) {
      if (truncated) return;
      if (dirent.name.startsWith(TEMP_PREFIX)) continue;
      if (++scanned > MAX_SEARCH_SCAN) {
        truncated = true;
        return;
      }
      const childRel = rel ? `${rel}/${dirent.name}` : dirent.name;
      // Symlinks are not followed: a search never leaves the workspace or loops.
      if (dirent.isSymbolicLink()) continue;
      const shown = base.relative ? `${base.relative}/${childRel}` : childRel;
      if (matches(childRel)) {
        if (contains) {
          if (dirent.isFile()) await searchInside(path.join(abs, dirent.name), shown);
        } else if (found.length >= limit) {
          truncated = true;
          return;
        } else {
          found.push(shown);
        }
      }
      if (dirent.isDirectory()) await walk(path.join(abs, dirent.name), childRel);
    }
  };
  await walk(base.real, '');
  return { pattern, path: base.shown, matches: found, count: found.length, truncated };
}

/**
 * The text `search_files` looks in: a document's converted text, or a UTF-8 file's content. Files
 * without text (binary, too large, not converted yet or not convertible) are passed over.
 */
async function fileText(ctx: FileToolContext, abs: string, shown: string): Promise<string | undefined> {
  try {
    const converted = await convertedText(ctx, shown.split('/'), shown);
    if (converted !== undefined) return converted;
    if (isBinaryDocument(shown)) return undefined;
    const handle = await openInsideForRead(abs, await ctx.jail.rootReal());
    try {
      const stat = await handle.stat();
      if (!stat.isFile() || stat.size > MAX_READ_BYTES) return undefined;
      return decodeText(await handle.readFile(), shown);
    } finally {
      await handle.close();
    }
  } catch (error) {
    if (error instanceof AppError) return undefined;
    throw error;
  }
}

export async function editFile(ctx: FileToolContext, relative: string, edits: readonly Edit[]): Promise<{ path: string; diff: string; edits_applied: number; matches: string[] }> {
  const file = await existing(ctx, relative);
  const rootReal = await ctx.jail.rootReal();
  const handle = await openInsideForRead(file.real, rootReal);
  let before: string;
  try {
    const stat = await handle.stat();
    if (!stat.isFile()) throw new AppError('FILE_5004', `"${file.shown}" is a folder, not a file.`);
    if (stat.size > MAX_READ_BYTES) throw new AppError('FILE_5004', `"${file.shown}" is too large to edit here.`);
    before = decodeText(await handle.readFile(), file.shown);
  } finally {
    await handle.close();
  }
  const outcome = applyEdits(before, edits);
  // All or nothing: a failed edit leaves the file as it was.
  if (!outcome.ok) throw new AppError('FILE_5001', `No edit was applied: ${outcome.reason}`);
  const size = await writeFileAtomic(file.real, outcome.text, rootReal);
  await recordWrite(ctx, file.segments, size);
  return { path: file.shown, diff: unifiedDiff(before, outcome.text, file.shown), edits_applied: edits.length, matches: outcome.matches };
}

export async function generateDocument(ctx: FileToolContext, filename: string, content: string): Promise<{ path: string; size: number; replaced: boolean; type: string }> {
  const segments = parseRelativePath(filename);
  if (segments.length === 0) throw new AppError('FILE_5004', 'Give the document a file name.');
  const output = parseFolder('output');
  const rootReal = await ctx.jail.rootReal();
  const target = await resolveInside(rootReal, [output, ...segments]);
  if (target.exists && (await fs.stat(target.real)).isDirectory()) throw new AppError('FILE_5004', `"output/${segments.join('/')}" is a folder.`);
  const size = await writeFileAtomic(target.real, content, rootReal);
  await recordWrite(ctx, [output, ...segments], size);
  return { path: `output/${segments.join('/')}`, size, replaced: target.exists, type: mediaTypeFor(segments.join('/')) };
}
