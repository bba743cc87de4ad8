-- Read-only links to a snapshot of a session's active path (src/shares). The link's token is shown
-- once and stored as a SHA-256 hash; the snapshot is a copy, so later messages never appear in it.
-- Revoking deletes the row; deleting the session or its owner deletes its links.
CREATE TABLE session_shares (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  session_id uuid NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
  user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  token_hash text NOT NULL UNIQUE,
  snapshot jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX session_shares_session_idx ON session_shares (session_id, created_at);
