/**
 * The embedded database runs parameterised statements as named prepared statements: the values
 * that come back are those `PGlite.query` gives, an error leaves the connection usable, a table
 * changed under a prepared `SELECT *` is read again in its new shape, and a statement prepared
 * once is not parsed again (its second run skips the parse a fresh statement pays).
 */
import { PGlite } from '@electric-sql/pglite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPgliteDatabase, type PgliteDatabase } from '../../src/db/pglite-driver.js';
import { PreparedStatements } from '../../src/db/pglite-prepared.js';

let db: PgliteDatabase;
beforeAll(async () => {
  db = await createPgliteDatabase(undefined);
  await db.query('CREATE TABLE notes (id bigserial PRIMARY KEY, body text NOT NULL, meta jsonb, tags text[], at timestamptz DEFAULT now())');
});
afterAll(() => db.close());

describe('prepared statements on the embedded database', () => {
  it('return rows typed as PGlite.query returns them: bigint as a number, jsonb, arrays, dates, nulls', async () => {
    const inserted = await db.query<{ id: number }>('INSERT INTO notes (body, meta, tags) VALUES ($1, $2, $3) RETURNING id', ['first', { a: [1, 'b', null] }, ['x', 'y']]);
    const again = await db.query<{ id: number }>('INSERT INTO notes (body, meta, tags) VALUES ($1, $2, $3) RETURNING id', ['second', null, null]);
    expect(again.rows[0]!.id).toBe(inserted.rows[0]!.id + 1);
    const { rows } = await db.query<{ id: number; body: string; meta: unknown; tags: string[] | null; at: Date }>(
      'SELECT id, body, meta, tags, at FROM notes WHERE id = ANY($1::bigint[]) ORDER BY id',
      [[inserted.rows[0]!.id, again.rows[0]!.id]],
    );
    expect(rows).toHaveLength(2);
    expect(rows[0]).toMatchObject({ body: 'first', meta: { a: [1, 'b', null] }, tags: ['x', 'y'] });
    expect(rows[0]!.at).toBeInstanceOf(Date);
    expect(rows[1]).toMatchObject({ body: 'second', meta: null, tags: null });
    const updated = await db.query('UPDATE notes SET body = body || $1 WHERE id > $2', ['!', 0]);
    expect(updated.rowCount).toBe(2);
  });

  it('report an error with its code and leave the connection usable, in and out of a transaction', async () => {
    const failed = await db.query('INSERT INTO notes (body) VALUES ($1)', [null]).catch((err: unknown) => err);
    expect(failed).toMatchObject({ code: '23502' });
    const syntax = await db.query('SELECT * FROM notes WHERE id = $1 ORDER', [1]).catch((err: unknown) => err);
    expect(syntax).toMatchObject({ code: '42601' });
    await expect(
      db.transaction(async (tx) => {
        await tx.query('INSERT INTO notes (body) VALUES ($1)', ['kept only if committed']);
        await tx.query('INSERT INTO notes (body) VALUES ($1)', [null]);
      }),
    ).rejects.toMatchObject({ code: '23502' });
    const { rows } = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM notes WHERE body = $1', ['kept only if committed']);
    expect(rows[0]!.n).toBe(0);
  });

  it('read a table changed under a prepared SELECT * in its new shape', async () => {
    const before = await db.query<Record<string, unknown>>('SELECT * FROM notes WHERE id = $1', [1]);
    expect(Object.keys(before.rows[0]!)).not.toContain('colour');
    await db.query("ALTER TABLE notes ADD COLUMN colour text DEFAULT 'blue'");
    const after = await db.query<Record<string, unknown>>('SELECT * FROM notes WHERE id = $1', [1]);
    expect(after.rows[0]).toMatchObject({ id: 1, colour: 'blue' });
  });

  it('parse a statement once: later runs only bind and execute it', async () => {
    const pglite = await PGlite.create();
    try {
      const prepared = new PreparedStatements(pglite);
      const sql = 'SELECT $1::int + 1 AS n';
      expect((await prepared.query<{ n: number }>(sql, [1])).rows).toEqual([{ n: 2 }]);
      // The statement now exists by its name in the backend; a second run leaves no new one.
      const named = async () => (await pglite.query<{ n: number }>("SELECT count(*)::int AS n FROM pg_prepared_statements WHERE name LIKE 'pulp_%'")).rows[0]!.n;
      expect(await named()).toBe(1);
      expect((await prepared.query<{ n: number }>(sql, [41])).rows).toEqual([{ n: 42 }]);
      expect(await named()).toBe(1);
      await prepared.query('SELECT $1::text AS t', ['other']);
      expect(await named()).toBe(2);
    } finally {
      await pglite.close();
    }
  });

  it('keep at most their limit of statements, and still answer every one', async () => {
    const pglite = await PGlite.create();
    try {
      const prepared = new PreparedStatements(pglite, 2);
      for (let round = 0; round < 2; round++) {
        for (const k of [1, 2, 3]) expect((await prepared.query<{ k: number }>(`SELECT $1::int * ${k} AS k`, [2])).rows).toEqual([{ k: 2 * k }]);
      }
      const { rows } = await pglite.query<{ n: number }>("SELECT count(*)::int AS n FROM pg_prepared_statements WHERE name LIKE 'pulp_%'");
      expect(rows[0]!.n).toBeLessThanOrEqual(2);
    } finally {
      await pglite.close();
    }
  });
});
