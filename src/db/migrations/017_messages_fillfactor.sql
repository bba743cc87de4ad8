-- A streaming answer's row is rewritten every 2 s while its text grows (src/chat/checkpoint-writer.ts).
-- Pages of messages keep a fifth of their space free, so such a rewrite can stay on its page as a
-- HOT update: no new entries in the table's indexes, less WAL, and on PGlite, where statements run
-- on the server's event loop, checkpoint statements about a fifth shorter (docs/benchmarks.md).
-- Applies to pages written from now on; existing rows are not moved.
ALTER TABLE messages SET (fillfactor = 80);
