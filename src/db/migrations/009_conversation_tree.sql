-- Conversations as trees. Every message row follows its parent (null for the first row); a
-- session shows one path, root to its active leaf. Model context items hang on the message row
-- they were made with: an item is in the context of a path when its message is on that path.
-- A summary item covers every item of its path up to `summary_through_seq` and hangs on the
-- message of the last item it covers, so it serves only the paths through that message.
ALTER TABLE messages ADD COLUMN parent_id uuid REFERENCES messages(id) ON DELETE CASCADE;
CREATE INDEX messages_parent_idx ON messages (session_id, parent_id);

ALTER TABLE sessions ADD COLUMN active_leaf_id uuid REFERENCES messages(id) ON DELETE SET NULL;

ALTER TABLE llm_context ADD COLUMN message_id uuid REFERENCES messages(id) ON DELETE CASCADE;
ALTER TABLE llm_context ADD COLUMN summary_through_seq bigint;
CREATE INDEX llm_context_message_idx ON llm_context (message_id);

-- A linear chat becomes a one-path tree: each row follows the one before it.
UPDATE messages m SET parent_id = p.prev
FROM (SELECT id, LAG(id) OVER (PARTITION BY session_id ORDER BY seq) AS prev FROM messages) p
WHERE m.id = p.id AND p.prev IS NOT NULL;

UPDATE sessions s SET active_leaf_id = (
  SELECT m.id FROM messages m WHERE m.session_id = s.id ORDER BY m.seq DESC LIMIT 1
);

-- Existing context items hang on the newest row written in the same transaction or before them
-- (a turn's user items share their user row's transaction; its later items follow its rows).
UPDATE llm_context c SET message_id = (
  SELECT m.id FROM messages m
  WHERE m.session_id = c.session_id AND m.created_at <= c.created_at
  ORDER BY m.created_at DESC, m.seq DESC LIMIT 1
);
UPDATE llm_context c SET message_id = (
  SELECT m.id FROM messages m WHERE m.session_id = c.session_id ORDER BY m.seq LIMIT 1
) WHERE c.message_id IS NULL;

-- An existing summary replaced the rows before it: it covers everything up to itself.
UPDATE llm_context SET summary_through_seq = seq
WHERE item->>'role' = 'system' AND item->>'content' LIKE 'Summary of the earlier conversation%';
