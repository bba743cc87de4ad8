/**
 * Inputs for the files surface: hostile paths on every file route, multipart bodies for uploads
 * (well formed, hostile names and fields, or broken: no boundary, cut short, wrong line ends), and
 * workspace tool calls with hostile paths and arguments.
 */
import fc from 'fast-check';
import { hostileJson, hostileString, percentEncode } from './arbitraries.js';
import { hostilePath } from './paths.js';
import type { RestInput } from './rest-requests.js';

/** A multipart upload as sent: the body is UTF-8 text (binary file content is not what is tested). */
export interface UploadInput {
  kind: 'upload';
  session: string;
  query: string;
  contentType: string;
  body: string;
}

/** A workspace tool called with these arguments in user A's session. */
export interface ToolInput {
  kind: 'tool';
  name: string;
  arguments: unknown;
}

export const TOOL_NAMES = ['list_directory', 'read_file', 'search_files', 'edit_file', 'generate_document'] as const;

const SESSIONS = fc.constantFrom('{A_SESSION}', '{A_SESSION}', '{A_SESSION}', '{B_SESSION}', 'chat_000000000000');
const FOLDERS = fc.oneof(fc.constantFrom('input', 'output', 'input', 'output', 'Input', '', '..', 'input%2f..'), hostileString());

/** How a path reaches the URL: as typed, percent-encoded as a whole, or segment by segment. */
const inUrl = (text: fc.Arbitrary<string>): fc.Arbitrary<string> =>
  fc.oneof(
    text,
    text.map(percentEncode),
    text.map((t) => t.split('/').map(percentEncode).join('/')),
  );

/** A request to one of the file routes with a hostile folder or path. */
export function filePathRequest(): fc.Arbitrary<RestInput> {
  const download = fc
    .tuple(fc.constantFrom('GET', 'GET', 'DELETE', 'HEAD', 'PUT'), SESSIONS, inUrl(FOLDERS), inUrl(hostilePath()), fc.constantFrom('', '', '?disposition=inline', '?disposition=%00'))
    .map(([method, session, folder, path, query]) => ({ method, url: `/api/v1/sessions/${session}/files/${folder}/${path}${query}` }));
  const listing = fc
    .tuple(fc.constantFrom('GET', 'GET', 'POST'), SESSIONS, fc.option(FOLDERS.map(percentEncode)), fc.option(hostilePath().map(percentEncode)))
    .map(([method, session, folder, path]) => {
      const query = [folder === null ? null : `folder=${folder}`, path === null ? null : `path=${path}`].filter(Boolean).join('&');
      return { method, url: `/api/v1/sessions/${session}/files${query ? `?${query}` : ''}` };
    });
  return fc.oneof(download, listing).map((request) => ({ kind: 'rest' as const, auth: 'access' as const, ...request }));
}

interface Part {
  headers: string[];
  content: string;
}

const dispositionName = fc.oneof(fc.constantFrom('file', 'file', 'file', 'folder', 'path', 'files', ''), hostileString());
const fileName = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom('a.txt', 'report.csv', 'x.png', 'secret-notes.txt', 'notes.txt', '.env', 'a b.txt') },
  { weight: 2, arbitrary: hostilePath() },
  { weight: 2, arbitrary: hostileString() },
);
/** How the file name is written in Content-Disposition: quoted, RFC 5987 `filename*`, bare, or absent. */
const disposition = fc
  .tuple(dispositionName, fc.option(fileName, { freq: 4 }), fc.constantFrom('quoted', 'quoted', 'star', 'bare', 'both'))
  .map(([name, file, style]) => {
    let header = `Content-Disposition: form-data; name="${name.replace(/"/g, '%22')}"`;
    if (file === null) return header;
    const quoted = `filename="${file.replace(/"/g, '%22').replace(/\r|\n/g, ' ')}"`;
    const star = `filename*=UTF-8''${percentEncode(file)}`;
    if (style === 'quoted') header += `; ${quoted}`;
    else if (style === 'star') header += `; ${star}`;
    else if (style === 'bare') header += `; filename=${file.replace(/[\r\n;]/g, '')}`;
    else header += `; ${quoted}; ${star}`;
    return header;
  });
const part: fc.Arbitrary<Part> = fc.record({
  headers: fc.tuple(disposition, fc.option(fc.constantFrom('Content-Type: text/plain', 'Content-Type: application/octet-stream', 'Content-Type: ', 'Content-Transfer-Encoding: base64', 'X: \u0000'))).map(([d, extra]) =>
    extra === null ? [d] : [d, extra],
  ),
  content: fc.oneof(fc.constantFrom('input', 'output', 'sub', 'hello', ''), hostileString(), hostilePath()),
});

/** A file part with a plain name, and maybe a `folder` or `path` field: an upload that should work. */
const wellFormedParts: fc.Arbitrary<Part[]> = fc
  .tuple(
    fc.constantFrom('a.txt', 'report.csv', 'notes.txt', 'é.md', 'x y.txt'),
    fc.oneof(fc.constantFrom('hello', ''), hostileString()),
    fc.option(fc.tuple(fc.constantFrom('folder', 'path'), fc.constantFrom('input', 'output', 'sub', 'sub/deeper')), { nil: undefined }),
  )
  .map(([name, content, field]) => [
    ...(field ? [{ headers: [`Content-Disposition: form-data; name="${field[0]}"`], content: field[1] }] : []),
    { headers: [`Content-Disposition: form-data; name="file"; filename="${name}"`, 'Content-Type: text/plain'], content },
  ]);

/** A multipart body: parts in any order, then maybe broken (cut short, no closing boundary, LF line ends). */
export function uploadRequest(): fc.Arbitrary<UploadInput> {
  const boundary = fc.oneof(fc.constantFrom('XX', 'fuzzboundary', '----WebKitFormBoundary7MA4YWxkTrZu0gW', 'a b', '"quoted"'), fc.string({ minLength: 1, maxLength: 70, unit: 'grapheme-ascii' }));
  return fc
    .tuple(
      SESSIONS,
      boundary,
      fc.oneof(wellFormedParts, fc.array(part, { maxLength: 4 })),
      fc.constantFrom('whole', 'whole', 'whole', 'whole', 'whole', 'whole', 'cut', 'no-end', 'lf', 'other-boundary', 'no-boundary', 'not-multipart'),
      fc.nat(),
      fc.option(fc.tuple(fc.constantFrom('folder', 'path'), FOLDERS.map(percentEncode)).map(([k, v]) => `?${k}=${v}`), { nil: '' }),
    )
    .map(([session, b, parts, shape, cutAt, query]) => {
      const bare = b.replace(/^"|"$/g, '');
      let body = parts.map((p) => `--${bare}\r\n${p.headers.join('\r\n')}\r\n\r\n${p.content}\r\n`).join('') + `--${bare}--\r\n`;
      if (shape === 'cut') body = body.slice(0, cutAt % Math.max(1, body.length));
      if (shape === 'no-end') body = body.slice(0, body.lastIndexOf(`--${bare}--`));
      if (shape === 'lf') body = body.replaceAll('\r\n', '\n');
      const contentType =
        shape === 'other-boundary' ? 'multipart/form-data; boundary=nottheone'
        : shape === 'no-boundary' ? 'multipart/form-data'
        : shape === 'not-multipart' ? 'application/json'
        : `multipart/form-data; boundary=${b}`;
      return { kind: 'upload' as const, session, query, contentType, body };
    });
}

/** A workspace tool call: well-formed arguments with hostile paths, or arguments of any shape. */
export function toolCall(): fc.Arbitrary<ToolInput> {
  const path = hostilePath();
  const text = fc.oneof(hostileString(), fc.constantFrom('a', 'A notes', 'hello'));
  const shaped = fc.oneof(
    fc.record({ name: fc.constant('list_directory'), arguments: fc.record({ path }, { requiredKeys: [] }) }),
    fc.record({ name: fc.constant('read_file'), arguments: fc.record({ path, head: fc.integer({ min: -5, max: 50 }), tail: fc.integer({ min: -5, max: 50 }) }, { requiredKeys: ['path'] }) }),
    fc.record({ name: fc.constant('search_files'), arguments: fc.record({ pattern: fc.oneof(path, fc.constantFrom('*', '**', '**/*', '{a,b}', '[', '***/../*', '*'.repeat(200))), path, max_results: fc.integer({ min: -1, max: 2000 }), contains: fc.oneof(text, fc.constant(null)) }, { requiredKeys: ['pattern'] }) }),
    fc.record({ name: fc.constant('edit_file'), arguments: fc.record({ path, edits: fc.array(fc.record({ old_text: text, new_text: text }), { maxLength: 3 }) }) }),
    fc.record({ name: fc.constant('generate_document'), arguments: fc.record({ filename: path, content: text }) }),
  );
  const anyShape = fc.record({ name: fc.constantFrom(...TOOL_NAMES), arguments: hostileJson() });
  return fc.oneof({ weight: 4, arbitrary: shaped }, { weight: 1, arbitrary: anyShape }).map((call) => ({ kind: 'tool' as const, ...call }));
}
