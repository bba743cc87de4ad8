-- A user's access tokens carry the version they were signed with; logout raises the version, so
-- every access token signed before it is refused at once (not only when it expires).
ALTER TABLE users ADD COLUMN IF NOT EXISTS token_version integer NOT NULL DEFAULT 0;
