/**
 * The language of full-text search: `SEARCH_LANGUAGE` names a PostgreSQL text search
 * configuration, checked against the database at startup. The search vectors are generated columns
 * built with one configuration (migrations 011 and 016 build them with `english`); when the setting names
 * another, both columns are rebuilt with it once, and `search_settings` records which one they use.
 */
import type { Logger } from 'pino';
import { ConfigError } from '../config/config.js';
import type { Database, Queryable } from '../db/database.js';

/** Names Pulp's search rebuild among other advisory locks (the migrations use their own key). */
const REBUILD_LOCK_KEY = 7_201_998_433;
/** The characters of a message that are searchable: a tsvector holds at most 1 MB. */
export const SEARCHABLE_CHARS = 100_000;

/**
 * The generated columns and their indexes, for `language` (a checked configuration name). A
 * message still streaming has no vector: its text is saved every 2 s while it grows, and is
 * indexed once, complete (migration 016).
 */
export function searchColumnsSql(language: string): string[] {
  const config = `'${language}'::regconfig`;
  return [
    `ALTER TABLE messages ADD COLUMN search_vector tsvector GENERATED ALWAYS AS (
      CASE WHEN role IN ('user', 'assistant') AND NOT (metadata ? 'streaming')
        THEN to_tsvector(${config}, left(coalesce(content, ''), ${SEARCHABLE_CHARS})) END
    ) STORED`,
    'CREATE INDEX messages_search_idx ON messages USING gin (search_vector)',
    `ALTER TABLE sessions ADD COLUMN search_vector tsvector GENERATED ALWAYS AS (to_tsvector(${config}, coalesce(title, ''))) STORED`,
    'CREATE INDEX sessions_search_idx ON sessions USING gin (search_vector)',
  ];
}

/** The text search configurations the database has, by name. */
export async function availableLanguages(db: Queryable): Promise<string[]> {
  const { rows } = await db.query<{ name: string }>(
    "SELECT cfgname AS name FROM pg_ts_config WHERE cfgnamespace = 'pg_catalog'::regnamespace ORDER BY cfgname",
  );
  return rows.map((r) => r.name);
}

async function storedLanguage(db: Queryable): Promise<string> {
  const { rows } = await db.query<{ language: string }>('SELECT language FROM search_settings');
  return rows[0]?.language ?? 'english';
}

/**
 * Makes the search vectors use `language`: throws `ConfigError('SEARCH_LANGUAGE')` for a
 * configuration the database does not have, and rebuilds the vectors when they were built with
 * another one (under a lock, in one transaction: a failure leaves the old vectors in place).
 * Returns whether it rebuilt.
 */
export async function ensureSearchLanguage(db: Database, language: string, logger: Logger): Promise<boolean> {
  const languages = await availableLanguages(db);
  if (!languages.includes(language)) {
    throw new ConfigError('SEARCH_LANGUAGE', `is not a text search configuration of the database (got "${language}"; choose one of ${languages.join(', ')})`);
  }
  if ((await storedLanguage(db)) === language) return false;
  const started = Date.now();
  const rebuilt = await db.transaction(async (tx) => {
    await tx.query(`SELECT pg_advisory_xact_lock(${REBUILD_LOCK_KEY})`);
    // Another server may have rebuilt while this one waited for the lock.
    if ((await storedLanguage(tx)) === language) return false;
    await tx.query('ALTER TABLE messages DROP COLUMN search_vector');
    await tx.query('ALTER TABLE sessions DROP COLUMN search_vector');
    for (const sql of searchColumnsSql(language)) await tx.query(sql);
    await tx.query('UPDATE search_settings SET language = $1', [language]);
    return true;
  });
  if (rebuilt) logger.info({ language, ms: Date.now() - started }, `rebuilt the search index for SEARCH_LANGUAGE=${language}`);
  return rebuilt;
}
