ALTER TABLE compliance_states ADD COLUMN recheck_at TIMESTAMP;

--bun:split

CREATE INDEX ix_compliance_states__recheck_at ON compliance_states (subject_type, recheck_at);
