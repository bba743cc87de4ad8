-- Several servers on one PostgreSQL (src/cluster): which turns run, and the bounded event log that
-- `resume` reads. Both are pruned a grace period after a turn ends.

CREATE TABLE chat_turns (
  turn_id text PRIMARY KEY,
  session_id uuid NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
  server_id text NOT NULL,
  started_at timestamptz NOT NULL DEFAULT now(),
  ended_at timestamptz
);
CREATE INDEX chat_turns_open_idx ON chat_turns (session_id) WHERE ended_at IS NULL;
CREATE INDEX chat_turns_ended_idx ON chat_turns (ended_at) WHERE ended_at IS NOT NULL;

-- No foreign key to chat_turns: events are written in batches by a connection of their own and may
-- land before the turn's row does. UNLOGGED: a short-lived log written at streaming rates needs no
-- WAL (after a PostgreSQL crash it is empty, and resume answers RES_3001). The event is kept as the
-- JSON text sent to sockets; `type` is the one field queried.
CREATE UNLOGGED TABLE turn_events (
  turn_id text NOT NULL,
  seq integer NOT NULL,
  session_id uuid NOT NULL,
  type text NOT NULL,
  event text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (turn_id, seq)
);
CREATE INDEX turn_events_created_idx ON turn_events (created_at);
