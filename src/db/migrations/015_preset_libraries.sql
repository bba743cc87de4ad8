-- The libraries a preset attaches to the sessions made from it. Ids of libraries deleted since are
-- left in place and skipped whenever the preset is read (src/presets/preset-store.ts).
ALTER TABLE presets ADD COLUMN library_ids uuid[] NOT NULL DEFAULT '{}';
