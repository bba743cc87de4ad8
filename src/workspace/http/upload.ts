/**
 * Streams one multipart upload to a temp file inside the session directory, enforcing the size
 * limit while the bytes arrive. The caller renames the temp file into place (atomic: concurrent
 * uploads of one name leave one intact file) or removes it; nothing partial is ever visible.
 */
import { createWriteStream, constants, promises as fs } from 'node:fs';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { FastifyRequest } from 'fastify';
import { AppError } from '../../errors/app-error.js';
import { FILE_MODE, tempNameIn } from '../disk.js';
import { assertFdInside } from '../jail.js';

/** Text fields an upload may carry, besides the file itself. */
const MAX_FIELDS = 8;
const MAX_FIELD_BYTES = 8192;

export interface ReceivedUpload {
  tempPath: string;
  size: number;
  /** The name the client gave (not yet sanitized). */
  filename: string;
  fields: Record<string, string>;
}

function humanBytes(n: number): string {
  if (n >= 1024 * 1024) return `${(n / (1024 * 1024)).toFixed(n % (1024 * 1024) === 0 ? 0 : 1)} MiB`;
  if (n >= 1024) return `${(n / 1024).toFixed(n % 1024 === 0 ? 0 : 1)} KiB`;
  return `${n} bytes`;
}

export function tooLarge(maxBytes: number): AppError {
  return new AppError('FILE_5002', `The file is larger than the upload limit of ${humanBytes(maxBytes)}.`);
}

function mapMultipartError(err: unknown, maxBytes: number): unknown {
  const code = typeof err === 'object' && err !== null && 'code' in err ? (err).code : undefined;
  switch (code) {
    case 'FST_REQ_FILE_TOO_LARGE':
      return tooLarge(maxBytes);
    case 'FST_FILES_LIMIT':
      return new AppError('VAL_2001', 'Send one file per upload.', [{ field: 'file', message: 'only one file per upload' }]);
    case 'FST_FIELDS_LIMIT':
    case 'FST_PARTS_LIMIT':
      return new AppError('VAL_2001', 'The upload has too many fields.');
    case 'FST_PROTO_VIOLATION':
      return new AppError('VAL_2001', 'The upload has a field with a reserved name.');
    default:
      // busboy's parse errors (no boundary, a cut-off body, broken part headers) are the client's.
      if (err instanceof Error && /^(Multipart: |Unexpected end of multipart data|.* terminated early due to unexpected end of multipart data|Malformed part header)/.test(err.message)) {
        return new AppError('VAL_2005', `The multipart body is malformed (${err.message}); send the file again.`);
      }
      return err;
  }
}

/** Browsers escape `"`, CR and LF in multipart file names as %22, %0D, %0A (HTML form encoding); undo only those. */
export function unescapeFormName(name: string): string {
  return name.replace(/%22/g, '"').replace(/%0d/gi, '\r').replace(/%0a/gi, '\n');
}

/** Reads the rest of a part the handler does not want, so the parser can go on. */
async function discard(stream: NodeJS.ReadableStream): Promise<void> {
  await pipeline(stream, new Writable({ write: (_chunk, _enc, done) => done() }));
}

/**
 * Receives the `file` part of a multipart request into a temp file in `tempDirReal` (a real path
 * inside `rootReal`) and collects the text fields. Throws `FILE_5002` over `maxBytes` (the temp
 * file is removed first), `VAL_2004` when the request is not multipart, `VAL_2001` without a file.
 */
export async function receiveUpload(request: FastifyRequest, tempDirReal: string, rootReal: string, maxBytes: number): Promise<ReceivedUpload> {
  if (!request.isMultipart()) throw new AppError('VAL_2004', 'Send the file as multipart/form-data.');
  const fields: Record<string, string> = {};
  let received: ReceivedUpload | undefined;
  let tempPath: string | undefined;
  try {
    const parts = request.parts({
      limits: { fileSize: maxBytes, files: 1, fields: MAX_FIELDS, fieldSize: MAX_FIELD_BYTES, parts: MAX_FIELDS + 1 },
      // The raw name, so a name with separators is refused rather than silently cut to its base.
      preservePath: true,
    });
    for await (const part of parts) {
      if (part.type === 'field') {
        if (typeof part.value === 'string') fields[part.fieldname] = part.value;
        continue;
      }
      if (part.fieldname !== 'file' || received) {
        await discard(part.file);
        continue;
      }
      // A file part without a file name: refuse it rather than invent a name.
      if (typeof part.filename !== 'string' || part.filename === '') {
        await discard(part.file);
        throw new AppError('VAL_2001', 'The uploaded file has no file name: send it with filename="…".', [{ field: 'file', message: 'has no file name' }]);
      }
      tempPath = tempNameIn(tempDirReal);
      const handle = await fs.open(tempPath, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, FILE_MODE);
      await assertFdInside(handle.fd, rootReal).catch(async (err: unknown) => {
        await handle.close();
        throw err;
      });
      const sink = createWriteStream(tempPath, { fd: handle });
      await pipeline(part.file, sink);
      // busboy stops at the limit and marks the stream truncated: the file is too large.
      if (part.file.truncated) throw tooLarge(maxBytes);
      received = { tempPath, size: sink.bytesWritten, filename: unescapeFormName(part.filename), fields };
    }
  } catch (err) {
    if (tempPath) await fs.rm(tempPath, { force: true });
    throw mapMultipartError(err, maxBytes);
  }
  if (!received) {
    throw new AppError('VAL_2001', 'The upload has no file: send it in the multipart field "file".', [{ field: 'file', message: 'is required' }]);
  }
  return received;
}
