/**
 * A fresh database per test file, already migrated: a copy of a migrated template, so a file pays
 * for a copy, not for creating and migrating a database.
 *
 * - On the PostgreSQL server named by `TEST_DATABASE_URL`: `CREATE DATABASE … TEMPLATE
 *   pulp_test_template_<hash of the migrations>` (a new database per call, so files run in
 *   parallel without seeing each other). The template is made once per run by the global setup
 *   (`ensurePostgresTemplate`), or by the first file that misses it.
 * - Otherwise in-memory PGlite, started from a tarball of a migrated data directory
 *   (`node_modules/.cache/pulp-test/`), which skips PGlite's initdb and the migrations. An empty
 *   database is a tarball too, taken right after initdb.
 *
 * Both are keyed by a hash of `src/db/migrations/*.sql` (and PGlite's version), so a changed
 * migration makes a new template. Tests of the migrations themselves ask for an empty database
 * (`createTestDatabase(driver, { migrated: false })`, `createEmptyPostgresDatabase`).
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import pino from 'pino';
import type { Database, Queryable } from '../../src/db/database.js';
import { migrate, readMigrations } from '../../src/db/migrate.js';
import { createPgliteDatabase } from '../../src/db/pglite-driver.js';
import { createPostgresDatabase } from '../../src/db/postgres-driver.js';

export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL;

const ROOT = path.resolve(import.meta.dirname, '../..');
const TEMPLATE_PREFIX = 'pulp_test_template_';
/** Names Pulp's template lock among other advisory locks (the migrations use another key). */
const TEMPLATE_LOCK_KEY = 7_201_998_432;
/** A template nobody has used for this long belongs to migrations no run has any more. */
const STALE_TEMPLATE_MS = 60 * 60 * 1000;
/** Where the PGlite template tarballs are kept (per checkout: a build cache, like dist/). */
export const PGLITE_CACHE_DIR = path.join(ROOT, 'node_modules/.cache/pulp-test');

export interface TestDatabase {
  db: Database;
  /** Statements sent through `db` so far (to show what a turn costs). */
  statements(): number;
  /** The URL of the fresh database, when on real PostgreSQL. */
  url: string | undefined;
  drop(): Promise<void>;
}

let migrationsKey: string | undefined;
/** A hash of the migration files' names and contents. */
export function migrationsHash(): string {
  if (migrationsKey) return migrationsKey;
  const hash = createHash('sha256');
  for (const m of readMigrations()) hash.update(`${m.name}\n${m.sql}\n`);
  migrationsKey = hash.digest('hex').slice(0, 16);
  return migrationsKey;
}

/** The name of the migrated template database for the current migrations. */
export function templateDatabaseName(): string {
  return `${TEMPLATE_PREFIX}${migrationsHash()}`;
}

async function admin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

function databaseUrl(name: string): string {
  if (!TEST_DATABASE_URL) throw new Error('TEST_DATABASE_URL is not set');
  const url = new URL(TEST_DATABASE_URL);
  url.pathname = `/${name}`;
  return url.toString();
}

const silent = () => pino({ level: 'silent' });

/**
 * Makes sure the migrated template for the current migrations exists, and drops templates no run
 * has used for an hour (other migrations). Concurrent runs serialize on an advisory lock; the
 * template is migrated under another name and renamed when complete, so a run never copies a
 * half-migrated one. Each call marks the template as used now (its comment).
 */
export async function ensurePostgresTemplate(): Promise<string> {
  const name = templateDatabaseName();
  const building = `${TEMPLATE_PREFIX}building`;
  await admin(async (client) => {
    await client.query('SELECT pg_advisory_lock($1)', [TEMPLATE_LOCK_KEY]);
    try {
      const { rows } = await client.query<{ datname: string; used: string | null }>(
        `SELECT datname, shobj_description(oid, 'pg_database') AS used FROM pg_database WHERE starts_with(datname, $1)`,
        [TEMPLATE_PREFIX],
      );
      if (!rows.some((r) => r.datname === name)) {
        await client.query(`DROP DATABASE IF EXISTS ${building}`);
        await client.query(`CREATE DATABASE ${building}`);
        const db = createPostgresDatabase({ url: databaseUrl(building), poolMax: 1, statementTimeoutMs: 30_000, logger: silent() });
        try {
          await migrate(db);
        } finally {
          await db.close();
        }
        await client.query(`ALTER DATABASE ${building} RENAME TO ${name}`);
      }
      await client.query(`COMMENT ON DATABASE ${name} IS '${new Date().toISOString()}'`);
      for (const row of rows) {
        if (row.datname === name || row.datname === building) continue;
        const used = Date.parse(row.used ?? '');
        if (Number.isFinite(used) && Date.now() - used < STALE_TEMPLATE_MS) continue;
        // Still being copied by a run that started before the hour was up: left for next time.
        await client.query(`DROP DATABASE IF EXISTS ${row.datname}`).catch(() => undefined);
      }
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [TEMPLATE_LOCK_KEY]);
    }
  });
  return name;
}

async function createPostgresDatabaseFrom(template: string | undefined): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `pulp_test_${randomBytes(6).toString('hex')}`;
  const create = () => admin((c) => c.query(`CREATE DATABASE ${name}${template ? ` TEMPLATE ${template}` : ''}`));
  try {
    await create();
  } catch (err) {
    // 3D000: the template is missing (a run without the global setup, or another run's cleanup).
    if (!template || (err as { code?: string }).code !== '3D000') throw err;
    await ensurePostgresTemplate();
    await create();
  }
  return {
    url: databaseUrl(name),
    drop: () => admin((c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).then(() => undefined),
  };
}

/** `db` with every statement counted, inside transactions too. */
export function counted(db: Database): { db: Database; statements: () => number } {
  let n = 0;
  const count = (q: Queryable): Queryable => ({
    query: (sql, params) => {
      n += 1;
      return q.query(sql, params);
    },
  });
  const direct = count(db);
  const wrapped: Database = {
    driver: db.driver,
    query: (sql, params) => direct.query(sql, params),
    transaction: (fn) => db.transaction((tx) => fn(count(tx))),
    ping: (ms) => db.ping(ms),
    poolStats: () => db.poolStats(),
    close: () => db.close(),
  };
  return { db: wrapped, statements: () => n };
}

/**
 * One server's own pool on the PostgreSQL database at `url`, which other servers of a test share
 * (closing it leaves the database; the test drops it once).
 */
export function sharedPostgresDatabase(url: string): TestDatabase {
  const db = createPostgresDatabase({ url, poolMax: 5, statementTimeoutMs: 30_000, logger: pino({ level: 'silent' }) });
  return { ...counted(db), url, drop: () => db.close() };
}

/** Creates an empty PostgreSQL database and returns its URL (real PostgreSQL only). */
export function createEmptyPostgresDatabase(): Promise<{ url: string; drop: () => Promise<void> }> {
  if (!TEST_DATABASE_URL) return Promise.reject(new Error('TEST_DATABASE_URL is not set'));
  return createPostgresDatabaseFrom(undefined);
}

/** Creates a PostgreSQL database with every migration applied, and returns its URL (real PostgreSQL only). */
export function createMigratedPostgresDatabase(): Promise<{ url: string; drop: () => Promise<void> }> {
  if (!TEST_DATABASE_URL) return Promise.reject(new Error('TEST_DATABASE_URL is not set'));
  return createPostgresDatabaseFrom(templateDatabaseName());
}

function pgliteVersion(): string {
  const manifest = JSON.parse(readFileSync(path.join(ROOT, 'node_modules/@electric-sql/pglite/package.json'), 'utf8')) as { version: string };
  return manifest.version;
}

/** The files holding PGlite data directories: a fresh cluster, and one with the current migrations. */
export function pgliteTemplateFiles(): { empty: string; migrated: string } {
  const prefix = path.join(PGLITE_CACHE_DIR, `pglite-${pgliteVersion()}`);
  return { empty: `${prefix}-empty.tar`, migrated: `${prefix}-${migrationsHash()}.tar` };
}

function writeAtomically(file: string, contents: Buffer): void {
  mkdirSync(path.dirname(file), { recursive: true });
  const temporary = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  writeFileSync(temporary, contents);
  renameSync(temporary, file);
}

/**
 * Writes the PGlite data directories of `pgliteTemplateFiles()` unless they are there (PGlite's
 * initdb takes seconds; loading a tarball a fraction of one), and removes the tarballs of other
 * migrations or PGlite versions. Files are written under a temporary name and renamed, so a reader
 * never sees half of one.
 */
export async function ensurePgliteTemplates(): Promise<{ empty: string; migrated: string }> {
  const files = pgliteTemplateFiles();
  if (existsSync(files.empty) && existsSync(files.migrated)) return files;
  const db = await createPgliteDatabase(undefined);
  try {
    writeAtomically(files.empty, Buffer.from(await (await db.dumpDataDir()).arrayBuffer()));
    await migrate(db);
    writeAtomically(files.migrated, Buffer.from(await (await db.dumpDataDir()).arrayBuffer()));
  } finally {
    await db.close();
  }
  const keep = new Set([files.empty, files.migrated]);
  for (const name of readdirSync(PGLITE_CACHE_DIR)) {
    const file = path.join(PGLITE_CACHE_DIR, name);
    if (name.startsWith('pglite-') && name.endsWith('.tar') && !keep.has(file)) rmSync(file, { force: true });
  }
  return files;
}

/** The data directories, read once per process. */
let pgliteTemplates: Promise<{ empty: Blob; migrated: Blob }> | undefined;
function pgliteTarball(which: 'empty' | 'migrated'): Promise<Blob> {
  pgliteTemplates ??= ensurePgliteTemplates().then((files) => ({
    empty: new Blob([readFileSync(files.empty)]),
    migrated: new Blob([readFileSync(files.migrated)]),
  }));
  return pgliteTemplates.then((tarballs) => tarballs[which]);
}

export interface TestDatabaseOptions {
  /** Every migration applied (the default), or an empty database for the migrations' own tests. */
  migrated?: boolean;
}

export async function createTestDatabase(driver: 'auto' | 'pglite' = 'auto', options: TestDatabaseOptions = {}): Promise<TestDatabase> {
  const migrated = options.migrated ?? true;
  if (driver === 'pglite' || !TEST_DATABASE_URL) {
    const { db, statements } = counted(await createPgliteDatabase(undefined, { loadDataDir: await pgliteTarball(migrated ? 'migrated' : 'empty') }));
    return { db, statements, url: undefined, drop: () => db.close() };
  }
  const created = migrated ? await createMigratedPostgresDatabase() : await createEmptyPostgresDatabase();
  const { db, statements } = counted(createPostgresDatabase({ url: created.url, poolMax: 10, statementTimeoutMs: 30_000, logger: silent() }));
  return {
    db,
    statements,
    url: created.url,
    drop: async () => {
      await db.close().catch(() => undefined);
      await created.drop();
    },
  };
}
