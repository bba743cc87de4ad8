/**
 * An image file as the model sees it: decoded by sharp (libvips), shrunk so its longer edge is at
 * most `maxEdge` pixels, and given as a base64 data URL. Images already small enough go as their
 * own bytes; a GIF is sent as its first frame in PNG when it has to be resized.
 */
import sharp, { type Metadata } from 'sharp';
import { AppError } from '../errors/app-error.js';

/** The image types every vision model of the OpenAI APIs reads. */
export const IMAGE_TYPES = new Set(['image/png', 'image/jpeg', 'image/webp', 'image/gif']);
/** Decoding refuses images over this many pixels (a decompression bomb): 100 megapixels. */
const MAX_INPUT_PIXELS = 100_000_000;

export interface ImagePart {
  /** `data:<type>;base64,…` */
  dataUrl: string;
  /** The media type of what is sent. */
  contentType: string;
  /** The size of the image file on disk, and the pixels of what is sent. */
  width: number;
  height: number;
}

const FORMAT_TYPES: Record<string, string> = { png: 'image/png', jpeg: 'image/jpeg', webp: 'image/webp', gif: 'image/gif' };

/** The image in `bytes` as a data URL, shrunk to `maxEdge`; `VAL_2073` when it cannot be decoded. */
export async function imagePart(bytes: Buffer, file: string, maxEdge: number): Promise<ImagePart> {
  let meta: Metadata;
  try {
    meta = await sharp(bytes, { limitInputPixels: MAX_INPUT_PIXELS }).metadata();
  } catch (err) {
    throw new AppError('VAL_2073', `"${file}" is not an image Pulp can read (${err instanceof Error ? err.message : 'unknown format'}). Nothing was sent.`);
  }
  const type = meta.format ? FORMAT_TYPES[meta.format] : undefined;
  if (!type || !meta.width || !meta.height) throw new AppError('VAL_2073', `"${file}" is not a PNG, JPEG, WebP or GIF image. Nothing was sent.`);
  // EXIF orientation: `autoOrient` turns the pixels upright, so the edges below are those seen.
  const turned = (meta.orientation ?? 1) >= 5;
  const width = turned ? meta.height : meta.width;
  const height = turned ? meta.width : meta.height;
  if (Math.max(width, height) <= maxEdge && (meta.orientation ?? 1) === 1) {
    return { dataUrl: `data:${type};base64,${bytes.toString('base64')}`, contentType: type, width, height };
  }
  const out = type === 'image/gif' ? 'png' : (meta.format as 'png' | 'jpeg' | 'webp');
  try {
    const { data, info } = await sharp(bytes, { limitInputPixels: MAX_INPUT_PIXELS })
      .autoOrient()
      .resize({ width: maxEdge, height: maxEdge, fit: 'inside', withoutEnlargement: true })
      .toFormat(out)
      .toBuffer({ resolveWithObject: true });
    const sent = FORMAT_TYPES[out] ?? type;
    return { dataUrl: `data:${sent};base64,${data.toString('base64')}`, contentType: sent, width: info.width, height: info.height };
  } catch (err) {
    throw new AppError('VAL_2073', `"${file}" could not be resized (${err instanceof Error ? err.message : 'unknown error'}). Nothing was sent.`);
  }
}
