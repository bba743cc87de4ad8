/**
 * A `message` frame's attachments, checked and read before its turn starts: each path through the
 * session's path jail, each a file that exists, images decoded and shrunk for the model. What the
 * user row stores (`StoredAttachment`) and the user item's content parts come from here.
 */
import { promises as fs } from 'node:fs';
import type { AgentInputItem } from '@openai/agents';
import { AppError } from '../errors/app-error.js';
import { modelCapability, type ModelCapability } from '../llm/model-capabilities.js';
import { mediaTypeFor } from '../workspace/content-type.js';
import { parseFolder, toFileAppError, WorkspaceJail } from '../workspace/jail.js';
import { IMAGE_TYPES, imagePart, type ImagePart } from './image-part.js';

/** An image file larger than this is refused before it is read (providers take ≤ 20 MB). */
export const MAX_IMAGE_BYTES = 20 * 1024 * 1024;

/** An attachment as the user row keeps it (`messages.metadata.attachments`) and the API shows it. */

export interface StoredAttachment { file: string; content_type: string; size: number }

/** Attachments ready for a turn: what the row stores and the image parts for the model. */
export interface PreparedAttachments {
  stored: StoredAttachment[];
  images: Array<ImagePart & { file: string }>;
}

export interface AttachmentOptions {
  /** The session directory (the jail's root). */
  root: string;
  model: string;
  capabilities: Readonly<Record<string, ModelCapability>>;
  imageMaxEdge: number;
}

/**
 * Checks and reads `refs` (a file named twice counts once): `FILE_5004` for a path the jail
 * refuses or one outside `input/` and `output/`, `VAL_2071` for no such file,
 * `VAL_2072` for an image over `MAX_IMAGE_BYTES`, `VAL_2073` for an image that does not decode,
 * `VAL_2070` when the model cannot see images. Nothing is started on any of them.
 */
export async function prepareAttachments(refs: ReadonlyArray<{ file: string }>, options: AttachmentOptions): Promise<PreparedAttachments> {
  const jail = new WorkspaceJail(options.root);
  const stored: StoredAttachment[] = [];
  const found: Array<{ file: string; real: string; contentType: string; size: number }> = [];
  const seen = new Set<string>();
  for (const ref of refs) {
    const resolved = await jail.resolve(ref.file);
    // Only the files of `input/` and `output/`: what the user uploaded or the agent made.
    parseFolder(resolved.segments[0]);
    if (seen.has(resolved.relative)) continue;
    seen.add(resolved.relative);
    let size: number;
    try {
      const stat = await fs.stat(resolved.real);
      if (!stat.isFile()) throw new AppError('VAL_2071', `"${resolved.relative}" is a folder, not a file. Nothing was sent.`);
      size = stat.size;
    } catch (err) {
      if (err instanceof AppError) throw err;
      const fileError = toFileAppError(err, resolved.relative);
      if (fileError.code === 'FILE_5001') throw new AppError('VAL_2071', `No file at "${resolved.relative}"; upload it first. Nothing was sent.`);
      throw fileError;
    }
    const contentType = mediaTypeFor(resolved.relative);
    stored.push({ file: resolved.relative, content_type: contentType, size });
    found.push({ file: resolved.relative, real: resolved.real, contentType, size });
  }
  const imageFiles = found.filter((f) => IMAGE_TYPES.has(f.contentType));
  if (imageFiles.length > 0 && modelCapability(options.model, options.capabilities) === 'text') {
    throw new AppError('VAL_2070', `The model "${options.model}" cannot see images; choose a vision model or send the message without images. Nothing was sent.`);
  }
  const images: PreparedAttachments['images'] = [];
  for (const f of imageFiles) {
    if (f.size > MAX_IMAGE_BYTES) throw new AppError('VAL_2072', `"${f.file}" is larger than ${MAX_IMAGE_BYTES / 1024 / 1024} MB. Nothing was sent.`);
    images.push({ file: f.file, ...(await imagePart(await fs.readFile(f.real), f.file, options.imageMaxEdge)) });
  }
  return { stored, images };
}

/** A readable size: `812 B`, `45.2 KB`, `3.1 MB`. */
export function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

/**
 * The user item of a message with attachments: the text, a line naming the files that are not
 * images (the agent reads them with its file tools), then per image a label part
 * `[image: input/photo.png]` followed by the image itself. The label lets the model tell images
 * apart and is what summaries keep once the image is gone.
 */
export function userItemWithAttachments(text: string, prepared: PreparedAttachments): AgentInputItem {
  const imageFiles = new Set(prepared.images.map((i) => i.file));
  const others = prepared.stored.filter((s) => !imageFiles.has(s.file));
  const note = others.length > 0 ? `\n\nAttached: ${others.map((o) => `${o.file} (${o.content_type}, ${formatSize(o.size)})`).join(', ')}` : '';
  const content: Array<{ type: 'input_text'; text: string } | { type: 'input_image'; image: string }> = [{ type: 'input_text', text: text + note }];
  for (const image of prepared.images) {
    content.push({ type: 'input_text', text: `[image: ${image.file}]` });
    content.push({ type: 'input_image', image: image.dataUrl });
  }
  return { type: 'message', role: 'user', content };
}
