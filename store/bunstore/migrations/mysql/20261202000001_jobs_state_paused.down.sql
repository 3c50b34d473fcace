CREATE INDEX ix_jobs__state ON jobs (state);

--bun:split

DROP INDEX ix_jobs__state_paused ON jobs;
