-- Custos schema (postgres). Names: ux_<table>__<field> for unique keys, fk_<table>__<column> for
-- foreign keys, ix_<table>__<columns> for indexes; the store maps errors by these names.
DROP TABLE notifications;

--bun:split

DROP TABLE reports;

--bun:split

DROP TABLE channels;

--bun:split

DROP TABLE alerts;

--bun:split

DROP TABLE daily_rollups;

--bun:split

DROP TABLE compliance_changes;

--bun:split

DROP TABLE compliance_states;

--bun:split

DROP TABLE verification_schedules;

--bun:split

DROP TABLE verification_tests;

--bun:split

DROP TABLE executions;

--bun:split

DROP TABLE copies;

--bun:split

DROP TABLE api_keys;

--bun:split

DROP TABLE jobs;

--bun:split

DROP TABLE rotation_plans;

--bun:split

DROP TABLE lendings;

--bun:split

DROP TABLE media_events;

--bun:split

DROP TABLE media;

--bun:split

DROP TABLE assets;

--bun:split

DROP TABLE audit_events;

--bun:split

DROP TABLE settings;

--bun:split

DROP TABLE sessions;

--bun:split

DROP TABLE users;
