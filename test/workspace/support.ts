/**
 * Test support for the workspace: a real Fastify server with only the file routes, a fresh
 * database with a user and a session, a temp DATA_DIR, raw HTTP for paths that fetch would
 * normalize, and the sandbox skip check.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, rmSync, watch } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import pino from 'pino';
import { migrate } from '../../src/db/migrate.js';
import type { Database } from '../../src/db/database.js';
import { AppError } from '../../src/errors/app-error.js';
import { createHttpServer, type PulpFastify } from '../../src/http/server.js';
import { createMetrics } from '../../src/observability/metrics.js';
import type { SessionRow } from '../../src/sessions/types.js';
import { registerFileRoutes } from '../../src/workspace/http/file-routes.js';
import { createWorkspace, type Workspace } from '../../src/workspace/workspace.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { tempDirectory } from '../support/temp-dir.js';

export interface TestSession {
  uuid: string;
  publicId: string;
  userId: string;
  root: string;
}

export interface FilesTestServer {
  app: PulpFastify;
  baseUrl: string;
  port: number;
  db: Database;
  database: TestDatabase;
  workspace: Workspace;
  /** A temp folder holding DATA_DIR; `outsideDir` sits next to DATA_DIR and must stay untouched. */
  tempDir: string;
  dataDir: string;
  outsideDir: string;
  newSession(userId?: string): Promise<TestSession>;
  newUser(): Promise<string>;
  close(): Promise<void>;
}

export { tempDirectory };

export async function createUser(db: Database): Promise<string> {
  const { rows } = await db.query<{ id: string }>('INSERT INTO users (email) VALUES ($1) RETURNING id', [`u${randomBytes(6).toString('hex')}@test.local`]);
  return rows[0]!.id;
}

export async function createSessionRow(db: Database, workspace: Workspace, userId: string): Promise<TestSession> {
  const publicId = `chat_${randomBytes(6).toString('hex')}`;
  const { rows } = await db.query<{ id: string }>('INSERT INTO sessions (user_id, session_id, model) VALUES ($1, $2, $3) RETURNING id', [userId, publicId, 'offline']);
  const root = await workspace.create(publicId);
  return { uuid: rows[0]!.id, publicId, userId, root };
}

export async function startFilesServer(options: { maxUploadBytes?: number } = {}): Promise<FilesTestServer> {
  const tempDir = tempDirectory('pulp-ws-');
  const dataDir = path.join(tempDir, 'data');
  const outsideDir = path.join(tempDir, 'outside');
  const database = await createTestDatabase();
  const db = database.db;
  await migrate(db);
  const workspace = createWorkspace(dataDir);
  const app = await createHttpServer({ logger: pino({ level: 'silent' }), metrics: createMetrics(), debug: false, version: 'test' });
  await registerFileRoutes(app, {
    db,
    workspace,
    maxUploadBytes: options.maxUploadBytes ?? 256 * 1024,
    authenticate: async (request) => {
      const user = request.headers['x-test-user'];
      if (typeof user !== 'string' || user === '') throw new AppError('AUTH_1001');
      return { id: user };
    },
    findOwnedSession: async (userId, publicId) => {
      const { rows } = await db.query<SessionRow>('SELECT * FROM sessions WHERE user_id = $1 AND session_id = $2', [userId, publicId]);
      return rows[0] ?? null;
    },
  });
  const address = await app.listen({ host: '127.0.0.1', port: 0 });
  const port = Number(new URL(address).port);
  return {
    app,
    baseUrl: address,
    port,
    db,
    database,
    workspace,
    tempDir,
    dataDir,
    outsideDir,
    newUser: () => createUser(db),
    newSession: async (userId) => createSessionRow(db, workspace, userId ?? (await createUser(db))),
    async close() {
      await app.close();
      await database.drop().catch(() => undefined);
      rmSync(tempDir, { recursive: true, force: true });
    },
  };
}

export interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  json(): { error?: { code: string; message: string } } & Record<string, unknown>;
}

/** An HTTP request with the path sent exactly as given (fetch would normalize `..`). */
export function rawRequest(port: number, method: string, rawPath: string, headers: Record<string, string> = {}, body?: Buffer): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path: rawPath, headers: { ...headers, ...(body ? { 'content-length': String(body.length) } : {}) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const buf = Buffer.concat(chunks);
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: buf, json: () => JSON.parse(buf.toString('utf8')) });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** A multipart/form-data body built by hand, so any file name (even a hostile one) is sent as is. */
export function multipartBody(parts: Array<{ name: string; value: string } | { name: string; filename: string; data: Buffer }>): { body: Buffer; contentType: string } {
  const boundary = `----pulp${randomBytes(8).toString('hex')}`;
  const chunks: Buffer[] = [];
  for (const part of parts) {
    if ('filename' in part) {
      chunks.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${part.name}"; filename="${part.filename.replace(/"/g, '%22')}"\r\nContent-Type: application/octet-stream\r\n\r\n`, 'utf8'));
      chunks.push(part.data, Buffer.from('\r\n'));
    } else {
      chunks.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${part.name}"\r\n\r\n${part.value}\r\n`, 'utf8'));
    }
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return { body: Buffer.concat(chunks), contentType: `multipart/form-data; boundary=${boundary}` };
}

export function upload(server: FilesTestServer, session: TestSession, parts: Parameters<typeof multipartBody>[0]): Promise<RawResponse> {
  const { body, contentType } = multipartBody(parts);
  return rawRequest(server.port, 'POST', `/api/v1/sessions/${session.publicId}/files`, { 'x-test-user': session.userId, 'content-type': contentType }, body);
}

let sandboxCheck: { ok: boolean; reason: string } | undefined;

/** Whether bwrap and Debian's python3 with pandas are here; sandbox tests skip (with a warning) when not. */
export function sandboxSupport(): { ok: boolean; reason: string } {
  if (sandboxCheck) return sandboxCheck;
  if (process.platform !== 'linux') return (sandboxCheck = { ok: false, reason: 'not Linux' });
  const bwrap = spawnSync('/usr/bin/bwrap', ['--version'], { encoding: 'utf8' });
  if (bwrap.status !== 0) return (sandboxCheck = { ok: false, reason: '/usr/bin/bwrap is missing' });
  const python = spawnSync('/usr/bin/python3', ['-c', 'import pandas, numpy, matplotlib'], { encoding: 'utf8' });
  if (python.status !== 0) return (sandboxCheck = { ok: false, reason: '/usr/bin/python3 with pandas, numpy and matplotlib is missing' });
  return (sandboxCheck = { ok: true, reason: '' });
}

/** Prints the skip reason once per file. */
export function warnIfSkipped(what: string): boolean {
  const support = sandboxSupport();
  if (!support.ok) console.warn(`[${what}] sandbox tests skipped: ${support.reason}`);
  return !support.ok;
}

/** Resolves when `name` appears in `dir` (a file-system event, not a timer); bounded by the test timeout. */
export function appears(dir: string, name: string): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      watcher.close();
      resolve();
    };
    const watcher = watch(dir, () => {
      if (existsSync(path.join(dir, name))) done();
    });
    if (existsSync(path.join(dir, name))) done();
  });
}
