-- Rate-limit counters shared by every server on this database (src/limits, rate-limiter-flexible's
-- PostgreSQL store): one row per limited key, `points` used in the window that ends at `expire`
-- (milliseconds since 1970). UNLOGGED: counters need no WAL; after a PostgreSQL crash they start
-- again from zero. Rows whose window has passed are pruned by the servers.
CREATE UNLOGGED TABLE rate_limits (
  key varchar(255) PRIMARY KEY,
  points integer NOT NULL DEFAULT 0,
  expire bigint
);
CREATE INDEX rate_limits_expire_idx ON rate_limits (expire);
