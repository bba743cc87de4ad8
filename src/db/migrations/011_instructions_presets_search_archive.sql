-- A session's own instructions (its system prompt; '' is the default one) and the archive flag.
ALTER TABLE sessions ADD COLUMN instructions text NOT NULL DEFAULT '';
ALTER TABLE sessions ADD COLUMN archived boolean NOT NULL DEFAULT false;
-- The session list reads one user's archived or unarchived sessions, pinned first, newest used first.
DROP INDEX sessions_user_order_idx;
CREATE INDEX sessions_user_order_idx ON sessions (user_id, archived, pinned DESC, last_used_at DESC);

-- Presets: named bundles of session settings a user creates sessions from (copied, never linked).
CREATE TABLE presets (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  name text NOT NULL,
  instructions text NOT NULL DEFAULT '',
  model text,
  reasoning_effort text,
  mcp_config jsonb,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (user_id, name)
);

-- Full-text search (src/search). The text search configuration the vectors are built with; a
-- server started with another SEARCH_LANGUAGE rebuilds both columns and records it here.
CREATE TABLE search_settings (
  singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  language text NOT NULL
);
INSERT INTO search_settings (language) VALUES ('english');

-- The words of user and assistant text (tool calls and results are not searched), the first
-- 100 000 characters of a row: a tsvector holds at most 1 MB, and a longer text must still save.
ALTER TABLE messages ADD COLUMN search_vector tsvector GENERATED ALWAYS AS (
  CASE WHEN role IN ('user', 'assistant') THEN to_tsvector('english'::regconfig, left(coalesce(content, ''), 100000)) END
) STORED;
CREATE INDEX messages_search_idx ON messages USING gin (search_vector);

ALTER TABLE sessions ADD COLUMN search_vector tsvector GENERATED ALWAYS AS (
  to_tsvector('english'::regconfig, coalesce(title, ''))
) STORED;
CREATE INDEX sessions_search_idx ON sessions USING gin (search_vector);
