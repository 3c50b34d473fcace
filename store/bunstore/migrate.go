package bunstore

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect"
	"github.com/uptrace/bun/migrate"

	"github.com/custos-dev/custos/store"
)

// Names of the migration bookkeeping tables, prefixed so that a host
// application's own bun migrations never collide with ours.
const (
	MigrationTable     = "custos_migrations"
	MigrationLockTable = "custos_migration_locks"
)

//go:embed migrations
var migrationFiles embed.FS

// MigrationDir returns the embedded migration directory of a dialect.
func MigrationDir(name dialect.Name) (fs.FS, error) {
	dir := ""
	switch name {
	case dialect.SQLite:
		dir = "migrations/sqlite"
	case dialect.PG:
		dir = "migrations/postgres"
	case dialect.MySQL:
		dir = "migrations/mysql"
	default:
		return nil, fmt.Errorf("bunstore: unsupported dialect %s", name)
	}
	return fs.Sub(migrationFiles, dir)
}

func migrator(db *bun.DB) (*migrate.Migrator, error) {
	ms, err := migrations(db)
	if err != nil {
		return nil, err
	}
	return migrate.NewMigrator(db, ms,
		migrate.WithTableName(MigrationTable),
		migrate.WithLocksTableName(MigrationLockTable),
		migrate.WithMarkAppliedOnSuccess(true),
	), nil
}

func migrations(db *bun.DB) (*migrate.Migrations, error) {
	dir, err := MigrationDir(db.Dialect().Name())
	if err != nil {
		return nil, err
	}
	ms := migrate.NewMigrations()
	if err := ms.Discover(dir); err != nil {
		return nil, fmt.Errorf("bunstore: read migrations: %w", err)
	}
	return ms, nil
}

// MigrationStatus describes one migration.
type MigrationStatus struct {
	// Version is the migration's ID, e.g. "20261130000001_init".
	Version string
	// Applied reports whether the migration has run.
	Applied bool
	// AppliedAt is when it ran; zero when it has not.
	AppliedAt time.Time
}

// ErrLocked is returned when another process holds the migration lock. If
// no process is migrating, a crashed one left it behind: Unlock removes it.
var ErrLocked = errors.New("bunstore: migrations are locked by another process")

// Migrate applies every pending migration, holding the migration lock, and
// returns the versions it applied. Give it the database that takes writes.
func Migrate(ctx context.Context, db *bun.DB) ([]string, error) {
	m, err := migrator(db)
	if err != nil {
		return nil, err
	}
	if err := m.Init(ctx); err != nil {
		return nil, fmt.Errorf("bunstore: init migration tables: %w", err)
	}
	if err := lock(ctx, m); err != nil {
		return nil, err
	}
	defer m.Unlock(context.WithoutCancel(ctx)) //nolint:errcheck // the lock row is all it removes
	group, err := m.Migrate(ctx)
	if err != nil {
		return nil, fmt.Errorf("bunstore: migrate: %w", err)
	}
	return versions(group.Migrations), nil
}

// Rollback undoes the last group of applied migrations (what one Migrate
// call applied) and returns the versions it undid.
func Rollback(ctx context.Context, db *bun.DB) ([]string, error) {
	m, err := migrator(db)
	if err != nil {
		return nil, err
	}
	if err := m.Init(ctx); err != nil {
		return nil, fmt.Errorf("bunstore: init migration tables: %w", err)
	}
	if err := lock(ctx, m); err != nil {
		return nil, err
	}
	defer m.Unlock(context.WithoutCancel(ctx)) //nolint:errcheck // the lock row is all it removes
	group, err := m.Rollback(ctx)
	if err != nil {
		return nil, fmt.Errorf("bunstore: rollback: %w", err)
	}
	return versions(group.Migrations), nil
}

// Status lists every known migration, oldest first, with whether it has
// been applied.
func Status(ctx context.Context, db *bun.DB) ([]MigrationStatus, error) {
	m, err := migrator(db)
	if err != nil {
		return nil, err
	}
	if err := m.Init(ctx); err != nil {
		return nil, fmt.Errorf("bunstore: init migration tables: %w", err)
	}
	ms, err := m.MigrationsWithStatus(ctx)
	if err != nil {
		return nil, fmt.Errorf("bunstore: migration status: %w", err)
	}
	out := make([]MigrationStatus, len(ms))
	for i, mg := range ms {
		out[i] = MigrationStatus{Version: mg.String(), Applied: mg.IsApplied()}
		if mg.IsApplied() {
			out[i].AppliedAt = mg.MigratedAt.UTC()
		}
	}
	return out, nil
}

// Pending returns the versions not yet applied; readiness checks use it.
// Unlike Status it writes nothing (no bookkeeping tables are created), so it
// is cheap to call on every probe.
func Pending(ctx context.Context, db *bun.DB) ([]string, error) {
	m, err := migrator(db)
	if err != nil {
		return nil, err
	}
	ms, err := m.MigrationsWithStatus(ctx)
	if err != nil {
		if perr := db.PingContext(ctx); perr != nil {
			return nil, fmt.Errorf("bunstore: migration status: %w", err)
		}
		// The database answers but has no migration table: nothing applied.
		all, merr := migrations(db)
		if merr != nil {
			return nil, merr
		}
		ms = all.Sorted()
	}
	var out []string
	for _, mg := range ms {
		if !mg.IsApplied() {
			out = append(out, mg.String())
		}
	}
	return out, nil
}

// Unlock removes the migration lock left by a process that died while
// migrating.
func Unlock(ctx context.Context, db *bun.DB) error {
	m, err := migrator(db)
	if err != nil {
		return err
	}
	if err := m.Init(ctx); err != nil {
		return fmt.Errorf("bunstore: init migration tables: %w", err)
	}
	if err := m.Unlock(ctx); err != nil {
		return fmt.Errorf("bunstore: unlock migrations: %w", err)
	}
	return nil
}

func lock(ctx context.Context, m *migrate.Migrator) error {
	err := m.Lock(ctx)
	if err == nil {
		return nil
	}
	if errors.Is(mapErr(err), store.ErrConflict) {
		return ErrLocked
	}
	return fmt.Errorf("bunstore: lock migrations: %w", err)
}

func versions(ms migrate.MigrationSlice) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.String()
	}
	return out
}

// tables lists Custos's tables in creation order: every table comes after
// the tables it references.
var tables = []string{
	"users", "sessions", "settings", "audit_events", "assets", "media", "media_events", "lendings",
	"rotation_plans", "jobs", "api_keys", "copies", "executions", "verification_tests",
	"verification_schedules", "compliance_states", "compliance_changes", "daily_rollups", "alerts",
	"channels", "reports", "notifications",
}

// Tables returns the names of Custos's tables, each after the tables it
// references.
func Tables() []string { return append([]string(nil), tables...) }
