-- Usage and budgets: one row per model call with the provider's own token counts, per-user daily
-- running totals for the budget check, and per-user budget overrides.

-- A session's calls keep their row when the session is deleted (session_id becomes NULL): what
-- was spent stays on the user's account and in their budget. A deleted user's rows go with them.
CREATE TABLE model_calls (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  session_id uuid REFERENCES sessions(id) ON DELETE SET NULL,
  turn_id text,
  purpose text NOT NULL CHECK (purpose IN ('turn', 'summary', 'title', 'embedding')),
  model text NOT NULL,
  provider text NOT NULL,
  input_tokens bigint NOT NULL CHECK (input_tokens >= 0),
  cached_input_tokens bigint NOT NULL CHECK (cached_input_tokens >= 0),
  output_tokens bigint NOT NULL CHECK (output_tokens >= 0),
  reasoning_tokens bigint NOT NULL CHECK (reasoning_tokens >= 0),
  -- USD; NULL when the model has no price in MODEL_PRICES.
  cost numeric(20, 10),
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX model_calls_user_time_idx ON model_calls (user_id, created_at);
CREATE INDEX model_calls_time_idx ON model_calls (created_at);
CREATE INDEX model_calls_session_idx ON model_calls (session_id) WHERE session_id IS NOT NULL;

-- Running totals per user and UTC day, written in the same statement as each model_calls row, so
-- the budget check reads at most 31 rows of one user whatever their number of calls.
CREATE TABLE usage_daily (
  user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  day date NOT NULL,
  tokens bigint NOT NULL DEFAULT 0,
  cost numeric(20, 10) NOT NULL DEFAULT 0,
  PRIMARY KEY (user_id, day)
);

-- An administrator's budget overrides for one user ({tokens_per_day, tokens_per_month,
-- cost_per_day, cost_per_month}); a key that is absent takes the configured default.
ALTER TABLE users ADD COLUMN quota jsonb NOT NULL DEFAULT '{}'::jsonb;
