/**
 * The opaque paging cursor of search: the rank and id of the last result of a page, as base64url
 * JSON. The next page is the results strictly after it in (rank DESC, id DESC) order, so pages
 * neither repeat nor skip a result; a result's rank depends on its own text and the query only.
 */
import { z } from 'zod';
import { AppError } from '../errors/app-error.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const CursorSchema = z.tuple([z.number().finite().min(0), z.string().regex(UUID)]);

export interface SearchPosition {
  rank: number;
  id: string;
}

export function encodeCursor(position: SearchPosition): string {
  return Buffer.from(JSON.stringify([position.rank, position.id])).toString('base64url');
}

/** The position a cursor names; throws `VAL_2021` for anything this server did not make. */
export function decodeCursor(cursor: string): SearchPosition {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    parsed = undefined;
  }
  const checked = CursorSchema.safeParse(parsed);
  if (!checked.success) {
    throw new AppError('VAL_2021', 'The search cursor is not valid: pass the next_cursor of the previous page unchanged.', [
      { field: 'cursor', message: 'not a cursor of this search' },
    ]);
  }
  const [rank, id] = checked.data;
  return { rank, id };
}
