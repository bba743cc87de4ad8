/**
 * The search SQL: one statement over the caller's session titles and the user and assistant text
 * of their messages, filtered by owner in SQL, ranked, paged by keyset, with highlighted snippets
 * made only for the rows of the page.
 */
import type { Queryable } from '../db/database.js';
import type { SearchPosition } from './cursor.js';
import { SEARCHABLE_CHARS } from './language.js';
import { MARK_END, MARK_START, parseMarked, type Snippet } from './snippet.js';

/** A title match weighs this many times a message match of the same words. */
export const TITLE_WEIGHT = 2;

/** `ts_headline` options for messages: up to two fragments of 8–24 words around the matches. */
const MESSAGE_HEADLINE = `StartSel=${MARK_START}, StopSel=${MARK_END}, MaxFragments=2, MaxWords=24, MinWords=8, ShortWord=2, FragmentDelimiter=" … "`;
/** Titles are short: every match in them is highlighted. */
const TITLE_HEADLINE = `StartSel=${MARK_START}, StopSel=${MARK_END}, HighlightAll=true`;

/**
 * The matching rows ranked by cover density (`ts_rank_cd`: more, and closer, matches rank higher);
 * normalization 1 divides by 1 + log(length), so a long message does not win by its length alone. The keyset condition ($4, $5) starts after the cursor.
 */
const SEARCH_SQL = `
WITH q AS (
  SELECT query FROM websearch_to_tsquery($1::regconfig, $3) AS query WHERE numnode(query) > 0
), hits AS (
  SELECT s.id AS key, s.id AS session_uuid, NULL::uuid AS message_id, (ts_rank_cd(s.search_vector, q.query, 1) * ${TITLE_WEIGHT}::real) AS rank
  FROM sessions s, q
  WHERE s.user_id = $2 AND s.search_vector @@ q.query
  UNION ALL
  SELECT m.id, m.session_id, m.id, ts_rank_cd(m.search_vector, q.query, 1)
  FROM messages m JOIN sessions s ON s.id = m.session_id, q
  WHERE s.user_id = $2 AND m.search_vector @@ q.query
), page AS (
  SELECT key, session_uuid, message_id, rank FROM hits
  WHERE $4::real IS NULL OR rank < $4::real OR (rank = $4::real AND key < $5::uuid)
  ORDER BY rank DESC, key DESC
  LIMIT $6
)
SELECT page.key, page.rank, page.message_id, s.session_id, s.title, s.archived, m.role,
  COALESCE(m.created_at, s.created_at) AS created_at,
  CASE WHEN page.message_id IS NULL
    THEN ts_headline($1::regconfig, translate(coalesce(s.title, ''), $7, ''), q.query, $8)
    ELSE ts_headline($1::regconfig, translate(left(coalesce(m.content, ''), ${SEARCHABLE_CHARS}), $7, ''), q.query, $9)
  END AS marked
FROM page
JOIN sessions s ON s.id = page.session_uuid
LEFT JOIN messages m ON m.id = page.message_id
CROSS JOIN q
ORDER BY page.rank DESC, page.key DESC`;

export interface SearchRequest {
  userId: string;
  /** A text search configuration name the database has (see `language.ts`). */
  language: string;
  /** The user's words in web search syntax: `"a phrase"`, `or`, `-word`. */
  query: string;
  limit: number;
  after?: SearchPosition;
}

export interface SearchHit {
  /** The position of this hit, for the cursor of the next page. */
  position: SearchPosition;
  sessionId: string;
  title: string | null;
  archived: boolean;
  /** null for a title match. */
  messageId: string | null;
  role: 'user' | 'assistant' | null;
  createdAt: Date;
  snippet: Snippet;
}

interface HitRow {
  key: string;
  rank: number;
  message_id: string | null;
  session_id: string;
  title: string | null;
  archived: boolean;
  role: 'user' | 'assistant' | null;
  created_at: Date;
  marked: string;
}

/**
 * Up to `limit` hits after `after`, best first. A query without searchable words (only stop words
 * or punctuation) finds nothing.
 */
export async function searchOwnText(db: Queryable, req: SearchRequest): Promise<SearchHit[]> {
  const { rows } = await db.query<HitRow>(SEARCH_SQL, [
    req.language,
    req.userId,
    req.query,
    req.after?.rank ?? null,
    req.after?.id ?? null,
    req.limit,
    MARK_START + MARK_END,
    TITLE_HEADLINE,
    MESSAGE_HEADLINE,
  ]);
  return rows.map((r) => ({
    position: { rank: Number(r.rank), id: r.key },
    sessionId: r.session_id,
    title: r.title,
    archived: r.archived,
    messageId: r.message_id,
    role: r.role,
    createdAt: r.created_at,
    snippet: parseMarked(r.marked),
  }));
}
