/**
 * Serves the built web client (web/dist) at `/`. Top-level files get a route each at startup
 * (`wildcard: false`), so the client can never shadow `/api`, `/ws` or `/metrics`, and unknown
 * paths still get the JSON error envelope; the lazily loaded chunks and KaTeX's files are served by
 * prefix from their own folders. The entry files are revalidated (no-cache) because their names are
 * fixed, and pages carry a strict Content-Security-Policy.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyReply } from 'fastify';
import type { PulpFastify } from '../http/server.js';

/** Where `npm run build` (or `build:web`) writes the client. */
export const DEFAULT_WEB_DIST = path.resolve(import.meta.dirname, '../../web/dist');

/**
 * Scripts and styles only from this origin; sockets to this host; images from here, data: and
 * blob: (downloads). Markdown from the model cannot load remote images or run scripts.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data: blob:",
  "connect-src 'self' ws: wss:",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

export interface WebClientOptions {
  /** The built client; must contain index.html (default: web/dist of this checkout). */
  distDir?: string;
}

/**
 * Registers the client's routes. When the client is not built, `/` answers 503 with a line that
 * says how to build it, instead of a bare 404. Call before `app.ready()`.
 */
export async function registerWebClient(app: PulpFastify, options: WebClientOptions = {}): Promise<void> {
  const distDir = path.resolve(options.distDir ?? DEFAULT_WEB_DIST);
  if (!existsSync(path.join(distDir, 'index.html'))) {
    app.log.warn({ distDir }, 'web client not built; run `npm run build`');
    app.get('/', { schema: { hide: true } }, async (_request, reply) =>
      reply.code(503).type('text/plain; charset=utf-8').send('The Pulp web client is not built. Run `npm run build:web` and restart the server.\n'),
    );
    return;
  }
  const common = {
    // swagger-ui registers its own copy of @fastify/static; two cannot both decorate the reply.
    decorateReply: false,
    cacheControl: false,
    serveDotFiles: false,
  } as const;
  await app.register(fastifyStatic, {
    ...common,
    root: distDir,
    prefix: '/',
    wildcard: false,
    index: ['index.html'],
    setHeaders(reply) {
      securityHeaders(reply, 'no-cache');
    },
  });
  // Lazily loaded parts live in two folders served by prefix, so files a rebuild adds while the
  // server runs (new content-hashed chunks) are found without a restart. Chunk names change with
  // their content, so browsers may keep them for good.
  for (const [folder, cacheControl] of LAZY_FOLDERS) {
    if (!existsSync(path.join(distDir, folder))) continue;
    await app.register(fastifyStatic, {
      ...common,
      root: path.join(distDir, folder),
      prefix: `/${folder}/`,
      wildcard: true,
      index: false,
      setHeaders(reply) {
        securityHeaders(reply, cacheControl);
      },
    });
  }
}

/** Folders of web/dist served by prefix, with their cache policy. */
const LAZY_FOLDERS: ReadonlyArray<[string, string]> = [
  ['chunks', 'public, max-age=31536000, immutable'],
  ['katex', 'no-cache'],
];

function securityHeaders(reply: FastifyReply, cacheControl: string): void {
  reply.header('cache-control', cacheControl);
  reply.header('content-security-policy', CONTENT_SECURITY_POLICY);
  reply.header('x-content-type-options', 'nosniff');
  reply.header('referrer-policy', 'no-referrer');
}
