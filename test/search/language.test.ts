/**
 * SEARCH_LANGUAGE: checked against the database, and the search vectors rebuilt in the chosen
 * language once, with the same definition the migration gives them.
 */
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config/config.js';
import { ensureSearchLanguage } from '../../src/search/language.js';
import { searchOwnText } from '../../src/search/search-store.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';

let database: TestDatabase;
let userId: string;
const logger = pino({ level: 'silent' });

/** The generated columns' definitions as the database prints them. */
async function definitions(): Promise<string[]> {
  const { rows } = await database.db.query<{ def: string }>(
    `SELECT c.relname || '.' || a.attname || ' = ' || pg_get_expr(d.adbin, d.adrelid) AS def
     FROM pg_attrdef d JOIN pg_attribute a ON a.attrelid = d.adrelid AND a.attnum = d.adnum JOIN pg_class c ON c.oid = d.adrelid
     WHERE a.attname = 'search_vector' ORDER BY c.relname`,
  );
  return rows.map((r) => r.def);
}

const find = (language: string, query: string) => searchOwnText(database.db, { userId, language, query, limit: 10 });

beforeAll(async () => {
  database = await createTestDatabase();
  const { rows } = await database.db.query<{ id: string }>("INSERT INTO users (email) VALUES ('lang@search.test') RETURNING id");
  userId = rows[0]!.id;
  const session = await database.db.query<{ id: string }>(
    "INSERT INTO sessions (user_id, session_id, model, title) VALUES ($1, 'chat_00000000abcd', 'm', 'Die alten Häuser') RETURNING id",
    [userId],
  );
  await database.db.query("INSERT INTO messages (session_id, seq, role, content) VALUES ($1, 1, 'user', 'Wir kauften zwei Häuser am See')", [session.rows[0]!.id]);
});
afterAll(() => database?.drop());

describe('SEARCH_LANGUAGE', () => {
  it('defaults to english and refuses a name that cannot be a text search configuration', () => {
    expect(loadConfig({}).search.language).toBe('english');
    expect(loadConfig({ SEARCH_LANGUAGE: 'German' }).search.language).toBe('german');
    expect(() => loadConfig({ SEARCH_LANGUAGE: "english'; DROP TABLE users; --" })).toThrow(ConfigError);
  });

  it('stops startup naming the variable and the choices for a configuration the database lacks', async () => {
    const failure = ensureSearchLanguage(database.db, 'klingon', logger);
    await expect(failure).rejects.toBeInstanceOf(ConfigError);
    await expect(failure).rejects.toThrow(/SEARCH_LANGUAGE is not a text search configuration of the database \(got "klingon"; choose one of .*english.*german/);
  });

  it('rebuilds the vectors in another language once, keeping every row, and back with the migration’s definition', async () => {
    const migrated = await definitions();
    expect(migrated).toHaveLength(2);
    // English stemming does not know that "Häuser" is the plural of "Haus".
    expect(await find('english', 'Haus')).toEqual([]);

    expect(await ensureSearchLanguage(database.db, 'german', logger)).toBe(true);
    expect(await ensureSearchLanguage(database.db, 'german', logger)).toBe(false);
    const hits = await find('german', 'Haus');
    expect(hits.map((h) => (h.messageId === null ? 'title' : 'message')).sort()).toEqual(['message', 'title']);
    expect(hits.find((h) => h.messageId !== null)?.snippet).toEqual({ text: 'Wir kauften zwei Häuser am See', highlights: [[17, 23]] });
    expect((await database.db.query<{ language: string }>('SELECT language FROM search_settings')).rows).toEqual([{ language: 'german' }]);

    expect(await ensureSearchLanguage(database.db, 'english', logger)).toBe(true);
    expect(await definitions()).toEqual(migrated);
    expect(await find('english', 'Haus')).toEqual([]);
    expect(await find('english', 'kauften')).toHaveLength(1);
  });
});
