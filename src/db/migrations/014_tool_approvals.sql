-- Tool approval (src/approvals). A turn whose model asked for tools that need a person's approval
-- pauses: `paused_turns` says where its events continue (`last_seq`) and whether every call is
-- decided (`state` ready), `tool_approvals` holds each call and its decision. Both outlive the
-- server that paused the turn; any server continues it.
CREATE TABLE paused_turns (
  turn_id text PRIMARY KEY,
  session_id uuid NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
  user_id uuid NOT NULL,
  -- Seq of the last event of the turn sent so far: decisions and the continuation go on after it.
  last_seq integer NOT NULL,
  -- paused: a call still waits; ready: every call is decided, the continuation may start.
  state text NOT NULL CHECK (state IN ('paused', 'ready')),
  paused_at timestamptz NOT NULL DEFAULT now(),
  ready_at timestamptz
);
CREATE INDEX paused_turns_session_idx ON paused_turns (session_id);
CREATE INDEX paused_turns_ready_idx ON paused_turns (ready_at) WHERE state = 'ready';

CREATE TABLE tool_approvals (
  session_id uuid NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
  tool_call_id text NOT NULL,
  turn_id text NOT NULL,
  tool_name text NOT NULL,
  arguments jsonb NOT NULL,
  -- The arguments exactly as the model sent them (what the tool runs with).
  arguments_text text NOT NULL,
  status text NOT NULL CHECK (status IN ('pending', 'approved', 'denied', 'expired', 'interrupted')),
  decided_by text,
  decided_at timestamptz,
  reason text,
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL,
  -- Set once, by the one continuation (or end) of the turn that answered the call: a call's tool
  -- runs at most once however many servers try.
  settled_at timestamptz,
  PRIMARY KEY (session_id, tool_call_id)
);
CREATE INDEX tool_approvals_turn_idx ON tool_approvals (turn_id);
CREATE INDEX tool_approvals_expiry_idx ON tool_approvals (expires_at) WHERE status = 'pending';

-- "Always allow in this chat": tool name → 'auto' (or 'deny'), never above the operator's policy.
ALTER TABLE sessions ADD COLUMN tool_approvals jsonb NOT NULL DEFAULT '{}'::jsonb;
