-- The dashboard counts jobs per state and paused: one covering index scan
-- instead of reading every row.
DROP INDEX ix_jobs__state;

--bun:split

CREATE INDEX ix_jobs__state_paused ON jobs (state, paused);
