DROP INDEX ix_jobs__state_paused;

--bun:split

CREATE INDEX ix_jobs__state ON jobs (state);
