/**
 * Zip-bomb defence for OOXML (DOCX, XLSX, PPTX), ODS and EPUB: the central directory is read with
 * yauzl and the declared uncompressed sizes are checked before any library inflates a byte.
 * A lying directory is caught later by the worker's heap limit and timeout.
 */
import yauzl from 'yauzl';
import { ConversionFailure } from './conversion-failure.js';

export interface ZipLimits {
  /** Sum of the declared uncompressed sizes. */
  maxTotalBytes: number;
  maxEntries: number;
  /** Uncompressed / compressed for any one entry over 1 MB. */
  maxRatio: number;
}

export const DEFAULT_ZIP_LIMITS: ZipLimits = { maxTotalBytes: 200 * 1024 * 1024, maxEntries: 10_000, maxRatio: 200 };

/** Resolves when the archive's directory stays within the limits; throws `ConversionFailure` otherwise. */
export function checkZipBuffer(bytes: Buffer, kind: string, limits: ZipLimits = DEFAULT_ZIP_LIMITS): Promise<void> {
  return new Promise((resolve, reject) => {
    yauzl.fromBuffer(bytes, { lazyEntries: true, validateEntrySizes: true }, (err, zip) => {
      if (err) {
        reject(new ConversionFailure('failed', `The ${kind} file is damaged or incomplete (${err.message}).`));
        return;
      }
      let total = 0;
      let entries = 0;
      const refuse = (message: string) => {
        zip.close();
        reject(new ConversionFailure('failed', message));
      };
      zip.on('entry', (entry: yauzl.Entry) => {
        entries += 1;
        total += entry.uncompressedSize;
        if (entries > limits.maxEntries) return refuse(`The archive has more than ${limits.maxEntries} entries.`);
        if (total > limits.maxTotalBytes) {
          return refuse(`The archive unpacks to more than ${Math.round(limits.maxTotalBytes / 1024 / 1024)} MB (a zip bomb?); not converted.`);
        }
        if (entry.uncompressedSize > 1024 * 1024 && entry.uncompressedSize > limits.maxRatio * Math.max(1, entry.compressedSize)) {
          return refuse(`An entry of the archive is compressed more than ${limits.maxRatio}:1 (a zip bomb?); not converted.`);
        }
        zip.readEntry();
      });
      zip.once('end', () => resolve());
      zip.once('error', (e: Error) => reject(new ConversionFailure('failed', `The ${kind} file is damaged (${e.message}).`)));
      zip.readEntry();
    });
  });
}
