DROP INDEX ix_compliance_states__recheck_at;

--bun:split

ALTER TABLE compliance_states DROP COLUMN recheck_at;
