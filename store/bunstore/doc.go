// Package bunstore implements store.Store with bun for SQLite,
// PostgreSQL and MySQL/MariaDB.
//
// It links no SQL driver: give New a *bun.DB over a driver of your choice,
// or use package dbopen, which opens any of the three from a URL with the
// settings Custos needs (SQLite in WAL mode with one write connection and a
// pool of readers; MySQL in UTC with utf8mb4; PostgreSQL through pgx).
//
// The schema comes from versioned SQL files embedded per dialect
// (migrations/sqlite, migrations/postgres, migrations/mysql, the same
// versions in each), applied by Migrate and undone by Rollback; the
// bookkeeping tables are custos_migrations and custos_migration_locks so a
// host application's own bun migrations never collide with them.
//
// Behaviour is the same on every database:
//   - driver errors become store errors in one function (mapErr);
//   - unique names compare case-insensitively through *_key columns filled
//     with store.NameKey, not through collations;
//   - "at most one open lending per medium", "one unresolved alert per
//     dedupe key" and "one active verification schedule per job" are unique
//     indexes on nullable shadow columns the adapter fills (NULL once the
//     row no longer takes part), so the database enforces them everywhere,
//     MySQL included, which has no partial indexes;
//   - an execution is unique per (job, run_id), and a repeated insert hands
//     back the stored row instead of failing;
//   - nothing relies on RETURNING or on database defaults: IDs (UUIDv7) and
//     times (UTC, microseconds) are set in Go.
//
// A *bun.DB you bring yourself must match what dbopen sets up: for MySQL,
// times read as UTC (parseTime=true, loc=UTC) and utf8mb4; for SQLite, WAL,
// foreign keys on, and a separate single-connection WriteDB (Config) so that
// writers queue instead of failing with SQLITE_BUSY.
//
// QueryCounter is a query hook that counts statements, for holding an
// operation to its query budget in tests.
package bunstore
