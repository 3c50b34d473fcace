ALTER TABLE compliance_states ADD COLUMN recheck_at DATETIME(6) NULL;

--bun:split

CREATE INDEX ix_compliance_states__recheck_at ON compliance_states (subject_type, recheck_at);
