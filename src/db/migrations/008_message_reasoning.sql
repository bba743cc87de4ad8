-- The model's reasoning summary, kept for display beside the assistant text it preceded. Display
-- only: the model's context lives in llm_context and never reads this column.
ALTER TABLE messages ADD COLUMN reasoning text;
