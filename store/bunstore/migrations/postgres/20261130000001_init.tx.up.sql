-- Custos schema (postgres). Names: ux_<table>__<field> for unique keys, fk_<table>__<column> for
-- foreign keys, ix_<table>__<columns> for indexes; the store maps errors by these names.
CREATE TABLE users (
    id VARCHAR(36) NOT NULL,
    username VARCHAR(50) NOT NULL,
    username_key VARCHAR(50) COLLATE "C" NOT NULL,
    email VARCHAR(254),
    email_key VARCHAR(254) COLLATE "C",
    full_name VARCHAR(200) NOT NULL,
    department VARCHAR(200) NOT NULL,
    role VARCHAR(16) NOT NULL CHECK (role IN ('admin', 'operator', 'viewer', 'auditor')),
    password_hash VARCHAR(1000) NOT NULL,
    active BOOLEAN NOT NULL,
    failed_logins INTEGER NOT NULL,
    locked_until TIMESTAMPTZ,
    last_login_at TIMESTAMPTZ,
    password_changed_at TIMESTAMPTZ,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    CONSTRAINT pk_users PRIMARY KEY (id)
);

--bun:split

CREATE UNIQUE INDEX ux_users__username ON users (username_key);

--bun:split

CREATE UNIQUE INDEX ux_users__email ON users (email_key);

--bun:split

CREATE INDEX ix_users__role_active ON users (role, active);

--bun:split

CREATE TABLE sessions (
    id VARCHAR(36) NOT NULL,
    token_hash VARCHAR(128) NOT NULL,
    user_id VARCHAR(36) NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    last_seen_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    ip VARCHAR(64) NOT NULL,
    user_agent VARCHAR(500) NOT NULL,
    CONSTRAINT pk_sessions PRIMARY KEY (id),
    CONSTRAINT fk_sessions__user_id FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
);

--bun:split

CREATE UNIQUE INDEX ux_sessions__token_hash ON sessions (token_hash);

--bun:split

CREATE INDEX ix_sessions__user_id ON sessions (user_id);

--bun:split

CREATE INDEX ix_sessions__expires_at ON sessions (expires_at);

--bun:split

CREATE TABLE settings (
    name VARCHAR(200) NOT NULL,
    value TEXT NOT NULL,
    updated_by VARCHAR(36),
    updated_at TIMESTAMPTZ NOT NULL,
    CONSTRAINT pk_settings PRIMARY KEY (name),
    CONSTRAINT fk_settings__updated_by FOREIGN KEY (updated_by) REFERENCES users (id) ON DELETE SET NULL
);

--bun:split

CREATE INDEX ix_settings__updated_by ON settings (updated_by);

--bun:split

CREATE TABLE audit_events (
    seq BIGINT NOT NULL,
    at TIMESTAMPTZ NOT NULL,
    actor VARCHAR(100) NOT NULL,
    action VARCHAR(100) NOT NULL,
    resource_type VARCHAR(64) NOT NULL,
    resource_id VARCHAR(200) NOT NULL,
    result VARCHAR(16) NOT NULL CHECK (result IN ('success', 'denied', 'failed')),
    ip VARCHAR(64) NOT NULL,
    request_id VARCHAR(100) NOT NULL,
    details TEXT NOT NULL,
    prev_hash VARCHAR(64) NOT NULL,
    hash VARCHAR(64) NOT NULL,
    CONSTRAINT pk_audit_events PRIMARY KEY (seq)
);

--bun:split

CREATE INDEX ix_audit_events__at ON audit_events (at);

--bun:split

CREATE INDEX ix_audit_events__actor_at ON audit_events (actor, at);

--bun:split

CREATE INDEX ix_audit_events__resource ON audit_events (resource_type, resource_id);

--bun:split

CREATE TABLE assets (
    id VARCHAR(36) NOT NULL,
    name VARCHAR(200) NOT NULL,
    name_key VARCHAR(200) COLLATE "C" NOT NULL,
    description TEXT NOT NULL,
    classification VARCHAR(16) NOT NULL CHECK (classification IN ('restricted', 'confidential', 'internal', 'public')),
    owner_id VARCHAR(36),
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    CONSTRAINT pk_assets PRIMARY KEY (id),
    CONSTRAINT fk_assets__owner_id FOREIGN KEY (owner_id) REFERENCES users (id) ON DELETE RESTRICT
);

--bun:split

CREATE UNIQUE INDEX ux_assets__name ON assets (name_key);

--bun:split

CREATE INDEX ix_assets__owner_id ON assets (owner_id);

--bun:split

CREATE TABLE media (
    id VARCHAR(36) NOT NULL,
    label VARCHAR(200) NOT NULL,
    label_key VARCHAR(200) COLLATE "C" NOT NULL,
    media_type VARCHAR(16) NOT NULL CHECK (media_type IN ('tape', 'external_hdd', 'usb', 'optical', 'cartridge')),
    capacity_bytes BIGINT NOT NULL,
    purchased_on DATE,
    location VARCHAR(500) NOT NULL,
    status VARCHAR(16) NOT NULL CHECK (status IN ('available', 'in_use', 'stored_offsite', 'lent', 'retired')),
    owner_id VARCHAR(36),
    notes TEXT NOT NULL,
    last_written_at TIMESTAMPTZ,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    CONSTRAINT pk_media PRIMARY KEY (id),
    CONSTRAINT fk_media__owner_id FOREIGN KEY (owner_id) REFERENCES users (id) ON DELETE SET NULL
);

--bun:split

CREATE UNIQUE INDEX ux_media__label ON media (label_key);

--bun:split

CREATE INDEX ix_media__owner_id ON media (owner_id);

--bun:split

CREATE INDEX ix_media__status ON media (status);

--bun:split

CREATE TABLE media_events (
    id VARCHAR(36) NOT NULL,
    media_id VARCHAR(36) NOT NULL,
    kind VARCHAR(16) NOT NULL CHECK (kind IN ('registered', 'lent', 'returned', 'moved', 'written', 'rotated', 'retired')),
    from_location VARCHAR(500) NOT NULL,
    to_location VARCHAR(500) NOT NULL,
    actor_id VARCHAR(36),
    at TIMESTAMPTZ NOT NULL,
    note TEXT NOT NULL,
    CONSTRAINT pk_media_events PRIMARY KEY (id),
    CONSTRAINT fk_media_events__media_id FOREIGN KEY (media_id) REFERENCES media (id) ON DELETE CASCADE,
    CONSTRAINT fk_media_events__actor_id FOREIGN KEY (actor_id) REFERENCES users (id) ON DELETE SET NULL
);

--bun:split

CREATE INDEX ix_media_events__actor_id ON media_events (actor_id);

--bun:split

CREATE INDEX ix_media_events__media_id_at ON media_events (media_id, at, id);

--bun:split

CREATE INDEX ix_media_events__at ON media_events (at, id);

--bun:split

CREATE TABLE lendings (
    id VARCHAR(36) NOT NULL,
    media_id VARCHAR(36) NOT NULL,
    borrower_id VARCHAR(36) NOT NULL,
    purpose VARCHAR(500) NOT NULL,
    lent_at TIMESTAMPTZ NOT NULL,
    due_on DATE NOT NULL,
    returned_at TIMESTAMPTZ,
    return_condition VARCHAR(16) NOT NULL CHECK (return_condition IN ('normal', 'damaged', 'lost', '')),
    notes TEXT NOT NULL,
    open_media_id VARCHAR(36),
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    CONSTRAINT pk_lendings PRIMARY KEY (id),
    CONSTRAINT fk_lendings__media_id FOREIGN KEY (media_id) REFERENCES media (id) ON DELETE CASCADE,
    CONSTRAINT fk_lendings__borrower_id FOREIGN KEY (borrower_id) REFERENCES users (id) ON DELETE RESTRICT
);

--bun:split

CREATE UNIQUE INDEX ux_lendings__media_id ON lendings (open_media_id);

--bun:split

CREATE INDEX ix_lendings__lent_at ON lendings (lent_at, id);

--bun:split

CREATE INDEX ix_lendings__media_id ON lendings (media_id, lent_at);

--bun:split

CREATE INDEX ix_lendings__borrower_id ON lendings (borrower_id);

--bun:split

CREATE INDEX ix_lendings__due_on ON lendings (due_on);

--bun:split

CREATE TABLE rotation_plans (
    id VARCHAR(36) NOT NULL,
    name VARCHAR(200) NOT NULL,
    name_key VARCHAR(200) COLLATE "C" NOT NULL,
    scheme VARCHAR(16) NOT NULL CHECK (scheme IN ('gfs', 'tower_of_hanoi', 'round_robin')),
    cycle VARCHAR(16) NOT NULL CHECK (cycle IN ('daily', 'weekly', 'monthly')),
    media_ids TEXT NOT NULL,
    next_rotation_on DATE,
    last_rotation_on DATE,
    active BOOLEAN NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    CONSTRAINT pk_rotation_plans PRIMARY KEY (id)
);

--bun:split

CREATE UNIQUE INDEX ux_rotation_plans__name ON rotation_plans (name_key);

--bun:split

CREATE TABLE jobs (
    id VARCHAR(36) NOT NULL,
    name VARCHAR(200) NOT NULL,
    name_key VARCHAR(200) COLLATE "C" NOT NULL,
    description TEXT NOT NULL,
    asset_id VARCHAR(36),
    job_type VARCHAR(32) NOT NULL CHECK (job_type IN ('system_image', 'file', 'database', 'vm', 'container', 'object_storage', 'other')),
    tool VARCHAR(32) NOT NULL CHECK (tool IN ('veeam', 'wsb', 'aomei', 'restic', 'borg', 'kopia', 'bareos', 'velero', 'pg_dump', 'mysqldump', 'rsync', 'custom')),
    target_server VARCHAR(500) NOT NULL,
    target_path VARCHAR(500) NOT NULL,
    schedule_kind VARCHAR(16) NOT NULL CHECK (schedule_kind IN ('cron', 'interval', 'manual')),
    schedule_cron VARCHAR(200) NOT NULL,
    schedule_interval_seconds BIGINT NOT NULL,
    schedule_timezone VARCHAR(64) NOT NULL,
    grace_seconds BIGINT NOT NULL,
    max_runtime_seconds BIGINT NOT NULL,
    retention_days INTEGER NOT NULL,
    rpo_target_seconds BIGINT NOT NULL,
    rto_target_seconds BIGINT NOT NULL,
    owner_id VARCHAR(36),
    tags TEXT NOT NULL,
    active BOOLEAN NOT NULL,
    paused BOOLEAN NOT NULL,
    ping_token VARCHAR(64) NOT NULL,
    state VARCHAR(16) NOT NULL CHECK (state IN ('new', 'up', 'running', 'late', 'missed', 'failed', 'paused')),
    next_due_at TIMESTAMPTZ,
    last_run_at TIMESTAMPTZ,
    last_success_at TIMESTAMPTZ,
    last_result VARCHAR(16) NOT NULL CHECK (last_result IN ('running', 'success', 'warning', 'failed', 'canceled', 'missed', '')),
    consecutive_failures INTEGER NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    CONSTRAINT pk_jobs PRIMARY KEY (id),
    CONSTRAINT fk_jobs__asset_id FOREIGN KEY (asset_id) REFERENCES assets (id) ON DELETE RESTRICT,
    CONSTRAINT fk_jobs__owner_id FOREIGN KEY (owner_id) REFERENCES users (id) ON DELETE RESTRICT
);

--bun:split

CREATE UNIQUE INDEX ux_jobs__name ON jobs (name_key);

--bun:split

CREATE UNIQUE INDEX ux_jobs__ping_token ON jobs (ping_token);

--bun:split

CREATE INDEX ix_jobs__active_next_due_at ON jobs (active, next_due_at);

--bun:split

CREATE INDEX ix_jobs__state ON jobs (state);

--bun:split

CREATE INDEX ix_jobs__asset_id ON jobs (asset_id);

--bun:split

CREATE INDEX ix_jobs__owner_id ON jobs (owner_id);

--bun:split

CREATE TABLE api_keys (
    id VARCHAR(36) NOT NULL,
    user_id VARCHAR(36) NOT NULL,
    name VARCHAR(200) NOT NULL,
    prefix VARCHAR(32) NOT NULL,
    secret_hash VARCHAR(128) NOT NULL,
    scopes TEXT NOT NULL,
    job_id VARCHAR(36),
    expires_at TIMESTAMPTZ,
    last_used_at TIMESTAMPTZ,
    revoked_at TIMESTAMPTZ,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    CONSTRAINT pk_api_keys PRIMARY KEY (id),
    CONSTRAINT fk_api_keys__user_id FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE,
    CONSTRAINT fk_api_keys__job_id FOREIGN KEY (job_id) REFERENCES jobs (id) ON DELETE CASCADE
);

--bun:split

CREATE UNIQUE INDEX ux_api_keys__prefix ON api_keys (prefix);

--bun:split

CREATE INDEX ix_api_keys__job_id ON api_keys (job_id);

--bun:split

CREATE INDEX ix_api_keys__user_id_created_at ON api_keys (user_id, created_at, id);

--bun:split

CREATE INDEX ix_api_keys__created_at ON api_keys (created_at, id);

--bun:split

CREATE TABLE copies (
    id VARCHAR(36) NOT NULL,
    job_id VARCHAR(36) NOT NULL,
    name VARCHAR(200) NOT NULL,
    name_key VARCHAR(200) COLLATE "C" NOT NULL,
    role VARCHAR(16) NOT NULL CHECK (role IN ('primary', 'secondary', 'offsite', 'offline')),
    media_type VARCHAR(16) NOT NULL CHECK (media_type IN ('disk', 'nas', 'tape', 'cloud_object', 'external_hdd', 'usb', 'optical')),
    location VARCHAR(500) NOT NULL,
    offsite BOOLEAN NOT NULL,
    offline BOOLEAN NOT NULL,
    immutable BOOLEAN NOT NULL,
    immutable_until TIMESTAMPTZ,
    encrypted BOOLEAN NOT NULL,
    compressed BOOLEAN NOT NULL,
    media_id VARCHAR(36),
    last_written_at TIMESTAMPTZ,
    last_size_bytes BIGINT NOT NULL,
    status VARCHAR(16) NOT NULL CHECK (status IN ('ok', 'warning', 'failed', 'unknown')),
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    CONSTRAINT pk_copies PRIMARY KEY (id),
    CONSTRAINT fk_copies__job_id FOREIGN KEY (job_id) REFERENCES jobs (id) ON DELETE CASCADE,
    CONSTRAINT fk_copies__media_id FOREIGN KEY (media_id) REFERENCES media (id) ON DELETE SET NULL
);

--bun:split

CREATE UNIQUE INDEX ux_copies__name ON copies (job_id, name_key);

--bun:split

CREATE INDEX ix_copies__media_id ON copies (media_id);

--bun:split

CREATE TABLE executions (
    id VARCHAR(36) NOT NULL,
    job_id VARCHAR(36) NOT NULL,
    copy_id VARCHAR(36),
    run_id VARCHAR(200) NOT NULL,
    status VARCHAR(16) NOT NULL CHECK (status IN ('running', 'success', 'warning', 'failed', 'canceled', 'missed')),
    started_at TIMESTAMPTZ NOT NULL,
    finished_at TIMESTAMPTZ,
    size_bytes BIGINT NOT NULL,
    files BIGINT NOT NULL,
    errors BIGINT NOT NULL,
    message TEXT NOT NULL,
    source VARCHAR(16) NOT NULL CHECK (source IN ('api', 'ping', 'restic', 'borg', 'kopia', 'veeam', 'wsb', 'aomei', 'velero', 'bareos', 'scheduler', 'manual', 'import')),
    snapshot_id VARCHAR(200) NOT NULL,
    log_excerpt TEXT NOT NULL,
    api_key_id VARCHAR(36),
    created_at TIMESTAMPTZ NOT NULL,
    CONSTRAINT pk_executions PRIMARY KEY (id),
    CONSTRAINT fk_executions__job_id FOREIGN KEY (job_id) REFERENCES jobs (id) ON DELETE CASCADE,
    CONSTRAINT fk_executions__copy_id FOREIGN KEY (copy_id) REFERENCES copies (id) ON DELETE SET NULL,
    CONSTRAINT fk_executions__api_key_id FOREIGN KEY (api_key_id) REFERENCES api_keys (id) ON DELETE SET NULL
);

--bun:split

CREATE UNIQUE INDEX ux_executions__run_id ON executions (job_id, run_id);

--bun:split

-- Partial: only rows that reference something need the lookup, and
-- ingest of rows that do not skips this index.
CREATE INDEX ix_executions__copy_id ON executions (copy_id) WHERE copy_id IS NOT NULL;

--bun:split

-- Partial: only rows that reference something need the lookup, and
-- ingest of rows that do not skips this index.
CREATE INDEX ix_executions__api_key_id ON executions (api_key_id) WHERE api_key_id IS NOT NULL;

--bun:split

CREATE INDEX ix_executions__job_id_started_at ON executions (job_id, started_at, id);

--bun:split

CREATE INDEX ix_executions__status_started_at ON executions (status, started_at, id);

--bun:split

CREATE INDEX ix_executions__started_at ON executions (started_at, id);

--bun:split

CREATE TABLE verification_tests (
    id VARCHAR(36) NOT NULL,
    job_id VARCHAR(36) NOT NULL,
    copy_id VARCHAR(36),
    test_type VARCHAR(32) NOT NULL CHECK (test_type IN ('full_restore', 'partial_restore', 'integrity', 'boot', 'application')),
    result VARCHAR(16) NOT NULL CHECK (result IN ('success', 'warning', 'failed')),
    tested_at TIMESTAMPTZ NOT NULL,
    tester_id VARCHAR(36),
    restore_target VARCHAR(500) NOT NULL,
    duration_seconds BIGINT NOT NULL,
    files_checked BIGINT NOT NULL,
    files_failed BIGINT NOT NULL,
    issues TEXT NOT NULL,
    notes TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    CONSTRAINT pk_verification_tests PRIMARY KEY (id),
    CONSTRAINT fk_verification_tests__job_id FOREIGN KEY (job_id) REFERENCES jobs (id) ON DELETE CASCADE,
    CONSTRAINT fk_verification_tests__copy_id FOREIGN KEY (copy_id) REFERENCES copies (id) ON DELETE SET NULL,
    CONSTRAINT fk_verification_tests__tester_id FOREIGN KEY (tester_id) REFERENCES users (id) ON DELETE SET NULL
);

--bun:split

CREATE INDEX ix_verification_tests__copy_id ON verification_tests (copy_id);

--bun:split

CREATE INDEX ix_verification_tests__tester_id ON verification_tests (tester_id);

--bun:split

CREATE INDEX ix_verification_tests__job_id_tested_at ON verification_tests (job_id, tested_at, id);

--bun:split

CREATE INDEX ix_verification_tests__tested_at ON verification_tests (tested_at, id);

--bun:split

CREATE TABLE verification_schedules (
    id VARCHAR(36) NOT NULL,
    job_id VARCHAR(36) NOT NULL,
    frequency VARCHAR(16) NOT NULL CHECK (frequency IN ('monthly', 'quarterly', 'semiannual', 'annual')),
    test_type VARCHAR(32) NOT NULL CHECK (test_type IN ('full_restore', 'partial_restore', 'integrity', 'boot', 'application')),
    next_due_on DATE NOT NULL,
    last_tested_on DATE,
    assignee_id VARCHAR(36),
    active BOOLEAN NOT NULL,
    active_job_id VARCHAR(36),
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    CONSTRAINT pk_verification_schedules PRIMARY KEY (id),
    CONSTRAINT fk_verification_schedules__job_id FOREIGN KEY (job_id) REFERENCES jobs (id) ON DELETE CASCADE,
    CONSTRAINT fk_verification_schedules__assignee_id FOREIGN KEY (assignee_id) REFERENCES users (id) ON DELETE SET NULL
);

--bun:split

CREATE UNIQUE INDEX ux_verification_schedules__job_id ON verification_schedules (active_job_id);

--bun:split

CREATE INDEX ix_verification_schedules__assignee_id ON verification_schedules (assignee_id);

--bun:split

CREATE INDEX ix_verification_schedules__active_next_due_on ON verification_schedules (active, next_due_on, id);

--bun:split

CREATE INDEX ix_verification_schedules__job_id ON verification_schedules (job_id);

--bun:split

CREATE TABLE compliance_states (
    subject_type VARCHAR(16) NOT NULL CHECK (subject_type IN ('job', 'asset')),
    subject_id VARCHAR(36) NOT NULL,
    status VARCHAR(16) NOT NULL CHECK (status IN ('compliant', 'warning', 'non_compliant', 'unknown')),
    copies INTEGER NOT NULL,
    media_types INTEGER NOT NULL,
    offsite BOOLEAN NOT NULL,
    offline_or_immutable BOOLEAN NOT NULL,
    verified BOOLEAN NOT NULL,
    score INTEGER NOT NULL,
    reasons TEXT NOT NULL,
    evaluated_at TIMESTAMPTZ NOT NULL,
    changed_at TIMESTAMPTZ NOT NULL,
    CONSTRAINT pk_compliance_states PRIMARY KEY (subject_type, subject_id)
);

--bun:split

CREATE INDEX ix_compliance_states__status ON compliance_states (subject_type, status);

--bun:split

CREATE TABLE compliance_changes (
    id VARCHAR(36) NOT NULL,
    subject_type VARCHAR(16) NOT NULL CHECK (subject_type IN ('job', 'asset')),
    subject_id VARCHAR(36) NOT NULL,
    from_status VARCHAR(16) NOT NULL CHECK (from_status IN ('compliant', 'warning', 'non_compliant', 'unknown')),
    to_status VARCHAR(16) NOT NULL CHECK (to_status IN ('compliant', 'warning', 'non_compliant', 'unknown')),
    at TIMESTAMPTZ NOT NULL,
    reasons TEXT NOT NULL,
    CONSTRAINT pk_compliance_changes PRIMARY KEY (id)
);

--bun:split

CREATE INDEX ix_compliance_changes__subject_at ON compliance_changes (subject_type, subject_id, at, id);

--bun:split

CREATE INDEX ix_compliance_changes__at ON compliance_changes (at, id);

--bun:split

CREATE TABLE daily_rollups (
    day DATE NOT NULL,
    executions_success BIGINT NOT NULL,
    executions_warning BIGINT NOT NULL,
    executions_failed BIGINT NOT NULL,
    executions_canceled BIGINT NOT NULL,
    executions_missed BIGINT NOT NULL,
    bytes_written BIGINT NOT NULL,
    jobs_compliant INTEGER NOT NULL,
    jobs_warning INTEGER NOT NULL,
    jobs_non_compliant INTEGER NOT NULL,
    jobs_unknown INTEGER NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    CONSTRAINT pk_daily_rollups PRIMARY KEY (day)
);

--bun:split

CREATE TABLE alerts (
    id VARCHAR(36) NOT NULL,
    type VARCHAR(32) NOT NULL CHECK (type IN ('backup_failed', 'backup_missed', 'backup_stuck', 'backup_anomaly', 'compliance_violation', 'compliance_warning', 'verification_failed', 'verification_overdue', 'media_lending_overdue', 'media_rotation_due', 'sla_breach')),
    severity VARCHAR(16) NOT NULL CHECK (severity IN ('info', 'warning', 'error', 'critical')),
    job_id VARCHAR(36),
    media_id VARCHAR(36),
    dedupe_key VARCHAR(500) NOT NULL,
    open_dedupe_key VARCHAR(500),
    title VARCHAR(200) NOT NULL,
    message TEXT NOT NULL,
    state VARCHAR(16) NOT NULL CHECK (state IN ('open', 'acknowledged', 'resolved')),
    occurrences INTEGER NOT NULL,
    first_seen_at TIMESTAMPTZ NOT NULL,
    last_seen_at TIMESTAMPTZ NOT NULL,
    acknowledged_by VARCHAR(36),
    acknowledged_at TIMESTAMPTZ,
    ack_note TEXT NOT NULL,
    resolved_at TIMESTAMPTZ,
    resolved_by VARCHAR(64) NOT NULL,
    last_notified_at TIMESTAMPTZ,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    CONSTRAINT pk_alerts PRIMARY KEY (id),
    CONSTRAINT fk_alerts__job_id FOREIGN KEY (job_id) REFERENCES jobs (id) ON DELETE SET NULL,
    CONSTRAINT fk_alerts__media_id FOREIGN KEY (media_id) REFERENCES media (id) ON DELETE SET NULL,
    CONSTRAINT fk_alerts__acknowledged_by FOREIGN KEY (acknowledged_by) REFERENCES users (id) ON DELETE SET NULL
);

--bun:split

CREATE UNIQUE INDEX ux_alerts__dedupe_key ON alerts (open_dedupe_key);

--bun:split

CREATE INDEX ix_alerts__acknowledged_by ON alerts (acknowledged_by);

--bun:split

CREATE INDEX ix_alerts__state_severity_last_seen_at ON alerts (state, severity, last_seen_at);

--bun:split

CREATE INDEX ix_alerts__last_seen_at ON alerts (last_seen_at, id);

--bun:split

CREATE INDEX ix_alerts__job_id ON alerts (job_id);

--bun:split

CREATE INDEX ix_alerts__media_id ON alerts (media_id);

--bun:split

CREATE TABLE channels (
    id VARCHAR(36) NOT NULL,
    kind VARCHAR(16) NOT NULL CHECK (kind IN ('email', 'slack', 'teams', 'webhook')),
    name VARCHAR(200) NOT NULL,
    name_key VARCHAR(200) COLLATE "C" NOT NULL,
    settings TEXT NOT NULL,
    min_severity VARCHAR(16) NOT NULL CHECK (min_severity IN ('info', 'warning', 'error', 'critical')),
    active BOOLEAN NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    CONSTRAINT pk_channels PRIMARY KEY (id)
);

--bun:split

CREATE UNIQUE INDEX ux_channels__name ON channels (name_key);

--bun:split

CREATE TABLE reports (
    id VARCHAR(36) NOT NULL,
    type VARCHAR(16) NOT NULL CHECK (type IN ('daily', 'weekly', 'monthly', 'compliance', 'verification', 'media', 'audit', 'iso27001')),
    format VARCHAR(8) NOT NULL CHECK (format IN ('html', 'csv', 'json', 'pdf')),
    period_from TIMESTAMPTZ NOT NULL,
    period_to TIMESTAMPTZ NOT NULL,
    generated_by VARCHAR(36),
    generated_at TIMESTAMPTZ NOT NULL,
    size_bytes BIGINT NOT NULL,
    sha256 VARCHAR(64) NOT NULL,
    content BYTEA NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    CONSTRAINT pk_reports PRIMARY KEY (id),
    CONSTRAINT fk_reports__generated_by FOREIGN KEY (generated_by) REFERENCES users (id) ON DELETE SET NULL
);

--bun:split

CREATE INDEX ix_reports__generated_by ON reports (generated_by);

--bun:split

CREATE INDEX ix_reports__generated_at ON reports (generated_at, id);

--bun:split

CREATE INDEX ix_reports__type_generated_at ON reports (type, generated_at, id);

--bun:split

CREATE TABLE notifications (
    id VARCHAR(36) NOT NULL,
    channel_id VARCHAR(36) NOT NULL,
    alert_id VARCHAR(36),
    report_id VARCHAR(36),
    payload TEXT NOT NULL,
    state VARCHAR(16) NOT NULL CHECK (state IN ('pending', 'sent', 'failed', 'dead')),
    attempts INTEGER NOT NULL,
    next_attempt_at TIMESTAMPTZ NOT NULL,
    last_error TEXT NOT NULL,
    sent_at TIMESTAMPTZ,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    CONSTRAINT pk_notifications PRIMARY KEY (id),
    CONSTRAINT fk_notifications__channel_id FOREIGN KEY (channel_id) REFERENCES channels (id) ON DELETE CASCADE,
    CONSTRAINT fk_notifications__alert_id FOREIGN KEY (alert_id) REFERENCES alerts (id) ON DELETE SET NULL,
    CONSTRAINT fk_notifications__report_id FOREIGN KEY (report_id) REFERENCES reports (id) ON DELETE SET NULL
);

--bun:split

CREATE INDEX ix_notifications__channel_id ON notifications (channel_id);

--bun:split

CREATE INDEX ix_notifications__report_id ON notifications (report_id);

--bun:split

CREATE INDEX ix_notifications__state_next_attempt_at ON notifications (state, next_attempt_at);

--bun:split

CREATE INDEX ix_notifications__created_at ON notifications (created_at, id);

--bun:split

CREATE INDEX ix_notifications__alert_id ON notifications (alert_id);
