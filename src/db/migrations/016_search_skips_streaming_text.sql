-- A streaming answer's text is saved every 2 s while it grows; its search vector was computed again
-- at every save (the whole text, and its GIN entries). Now a row still streaming has none: its
-- vector is computed once, when the text is complete (its last save drops the `streaming` flag), or
-- when the orphan sweep ends the turn of a server that died. A search finds an answer once it is
-- complete. Rebuilt with the configuration the vectors use now (SEARCH_LANGUAGE, src/search).
DO $$
DECLARE
  config text := (SELECT language FROM search_settings);
BEGIN
  ALTER TABLE messages DROP COLUMN search_vector;
  EXECUTE format(
    'ALTER TABLE messages ADD COLUMN search_vector tsvector GENERATED ALWAYS AS (
       CASE WHEN role IN (''user'', ''assistant'') AND NOT (metadata ? ''streaming'')
         THEN to_tsvector(%L::regconfig, left(coalesce(content, ''''), 100000)) END
     ) STORED',
    config);
  CREATE INDEX messages_search_idx ON messages USING gin (search_vector);
END $$;
