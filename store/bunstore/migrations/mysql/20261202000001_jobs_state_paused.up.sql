-- The dashboard counts jobs per state and paused: one covering index scan
-- instead of reading every row.
CREATE INDEX ix_jobs__state_paused ON jobs (state, paused);

--bun:split

DROP INDEX ix_jobs__state ON jobs;
