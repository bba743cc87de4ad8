-- Documents: the text of uploaded files (converted once at upload), their chunks with a
-- full-text index and optional embeddings, and user libraries attachable to sessions.

CREATE TABLE libraries (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  name text NOT NULL,
  description text NOT NULL DEFAULT '',
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX libraries_user_idx ON libraries (user_id, created_at);

CREATE TABLE session_libraries (
  session_id uuid NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
  library_id uuid NOT NULL REFERENCES libraries(id) ON DELETE CASCADE,
  PRIMARY KEY (session_id, library_id)
);
CREATE INDEX session_libraries_library_idx ON session_libraries (library_id);

-- One row per source file: a session's file (folder input/output) or a library's (folder 'library').
CREATE TABLE documents (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  session_id uuid REFERENCES sessions(id) ON DELETE CASCADE,
  library_id uuid REFERENCES libraries(id) ON DELETE CASCADE,
  folder text NOT NULL CHECK (folder IN ('input', 'output', 'library')),
  filename text NOT NULL,
  size_bytes bigint NOT NULL DEFAULT 0,
  -- Bumped by every upload of the file: work on an older revision is thrown away.
  revision integer NOT NULL DEFAULT 1,
  conversion_status text NOT NULL DEFAULT 'pending' CHECK (conversion_status IN ('pending', 'done', 'failed', 'unsupported', 'no_text')),
  conversion_error text,
  indexing_status text CHECK (indexing_status IN ('pending', 'done', 'failed')),
  indexing_error text,
  text_content text,
  pages integer,
  chunk_count integer NOT NULL DEFAULT 0,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  CHECK ((session_id IS NULL) <> (library_id IS NULL))
);
CREATE UNIQUE INDEX documents_session_file_idx ON documents (session_id, folder, filename) WHERE session_id IS NOT NULL;
CREATE UNIQUE INDEX documents_library_file_idx ON documents (library_id, filename) WHERE library_id IS NOT NULL;
CREATE INDEX documents_pending_idx ON documents (updated_at) WHERE conversion_status = 'pending' OR indexing_status = 'pending';

CREATE TABLE document_chunks (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  document_id uuid NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
  ordinal integer NOT NULL,
  page integer,
  section text,
  content text NOT NULL,
  tsv tsvector GENERATED ALWAYS AS (to_tsvector('english', content)) STORED,
  -- float32 little-endian, when EMBEDDING_MODEL is set.
  embedding bytea,
  UNIQUE (document_id, ordinal)
);
-- fastupdate off: no pending list whose flush would stall one insert (on the embedded database, the event loop) for long.
CREATE INDEX document_chunks_tsv_idx ON document_chunks USING gin (tsv) WITH (fastupdate = off);
