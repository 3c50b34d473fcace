package bunstore_test

import (
	"context"
	"io/fs"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/uptrace/bun/dialect"

	"github.com/custos-dev/custos/store/bunstore"
	"github.com/custos-dev/custos/store/bunstore/bunstoretest"
)

func migrationVersions(t *testing.T, name dialect.Name) []string {
	t.Helper()
	dir, err := bunstore.MigrationDir(name)
	require.NoError(t, err)
	entries, err := fs.ReadDir(dir, ".")
	require.NoError(t, err)
	var out []string
	for _, e := range entries {
		v, _, ok := strings.Cut(e.Name(), ".")
		require.True(t, ok, "migration file %s has no extension", e.Name())
		if !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	require.NotEmpty(t, out)
	return out
}

func TestMigrationDirectoriesHoldTheSameVersions(t *testing.T) {
	t.Parallel()
	sqlite := migrationVersions(t, dialect.SQLite)
	require.Equal(t, sqlite, migrationVersions(t, dialect.PG), "postgres migrations differ from sqlite")
	require.Equal(t, sqlite, migrationVersions(t, dialect.MySQL), "mysql migrations differ from sqlite")
	for _, name := range []dialect.Name{dialect.SQLite, dialect.PG, dialect.MySQL} {
		dir, err := bunstore.MigrationDir(name)
		require.NoError(t, err)
		for _, v := range sqlite {
			ups, _ := fs.Glob(dir, v+"*.up.sql")
			downs, _ := fs.Glob(dir, v+"*.down.sql")
			require.Len(t, ups, 1, "%s: %s needs one up file", name, v)
			require.Len(t, downs, 1, "%s: %s needs one down file", name, v)
		}
	}
}

func TestMigrateUpDownUp(t *testing.T) {
	t.Parallel()
	for _, kind := range bunstoretest.Dialects {
		t.Run(string(kind), func(t *testing.T) {
			t.Parallel()
			s := bunstoretest.New(t, kind, &bunstoretest.Options{NoMigrate: true})
			ctx := context.Background()
			db := s.DB()

			pending, err := bunstore.Pending(ctx, db)
			require.NoError(t, err)
			require.NotEmpty(t, pending)

			applied, err := bunstore.Migrate(ctx, db)
			require.NoError(t, err)
			require.Equal(t, pending, applied)
			pending, err = bunstore.Pending(ctx, db)
			require.NoError(t, err)
			require.Empty(t, pending)
			status, err := bunstore.Status(ctx, db)
			require.NoError(t, err)
			for _, st := range status {
				require.True(t, st.Applied, st.Version)
				require.False(t, st.AppliedAt.IsZero(), st.Version)
			}

			again, err := bunstore.Migrate(ctx, db)
			require.NoError(t, err)
			require.Empty(t, again, "a second migrate applies nothing")

			undone, err := bunstore.Rollback(ctx, db)
			require.NoError(t, err)
			require.ElementsMatch(t, applied, undone)
			var n int
			err = db.NewSelect().TableExpr("custos_migrations").ColumnExpr("count(*)").Scan(ctx, &n)
			require.NoError(t, err)
			require.Zero(t, n)
			_, err = db.NewSelect().TableExpr("jobs").ColumnExpr("count(*)").Exec(ctx)
			require.Error(t, err, "jobs table must be gone after rollback")

			applied2, err := bunstore.Migrate(ctx, db)
			require.NoError(t, err)
			require.Equal(t, applied, applied2)
			require.NoError(t, s.Ping(ctx))
		})
	}
}

func TestMigrateRefusesWhileLockedAndUnlockClears(t *testing.T) {
	t.Parallel()
	for _, kind := range bunstoretest.Dialects {
		t.Run(string(kind), func(t *testing.T) {
			t.Parallel()
			s := bunstoretest.New(t, kind, &bunstoretest.Options{NoMigrate: true})
			ctx := context.Background()
			db := s.DB()
			_, err := bunstore.Status(ctx, db) // creates the bookkeeping tables
			require.NoError(t, err)
			// What a process that died while migrating leaves behind.
			_, err = db.ExecContext(ctx, "INSERT INTO custos_migration_locks (table_name) VALUES ('custos_migrations')")
			require.NoError(t, err)

			_, err = bunstore.Migrate(ctx, db)
			require.ErrorIs(t, err, bunstore.ErrLocked)
			pending, err := bunstore.Pending(ctx, db)
			require.NoError(t, err)
			require.NotEmpty(t, pending, "nothing applied while locked")

			require.NoError(t, bunstore.Unlock(ctx, db))
			_, err = bunstore.Migrate(ctx, db)
			require.NoError(t, err)
		})
	}
}

func TestTablesListsTheSchema(t *testing.T) {
	t.Parallel()
	s := bunstoretest.New(t, "sqlite", nil)
	var names []string
	err := s.DB().NewSelect().TableExpr("sqlite_master").Column("name").
		Where("type = 'table'").Where("name NOT LIKE 'custos_%'").Where("name NOT LIKE 'sqlite_%'").
		Scan(context.Background(), &names)
	require.NoError(t, err)
	require.ElementsMatch(t, names, bunstore.Tables())
}

// The indexes DESIGN §5 asks for, by the name the schema gives them.
var designIndexes = map[string][]string{
	"ix_executions__job_id_started_at":              {"executions", "job_id", "started_at"},
	"ix_executions__status_started_at":              {"executions", "status", "started_at"},
	"ix_jobs__active_next_due_at":                   {"jobs", "active", "next_due_at"},
	"ix_alerts__state_severity_last_seen_at":        {"alerts", "state", "severity", "last_seen_at"},
	"ux_alerts__dedupe_key":                         {"alerts", "open_dedupe_key"},
	"ix_audit_events__at":                           {"audit_events", "at"},
	"ix_audit_events__actor_at":                     {"audit_events", "actor", "at"},
	"ux_lendings__media_id":                         {"lendings", "open_media_id"},
	"ix_verification_schedules__active_next_due_on": {"verification_schedules", "active", "next_due_on"},
	"ix_notifications__state_next_attempt_at":       {"notifications", "state", "next_attempt_at"},
	"ux_executions__run_id":                         {"executions", "job_id", "run_id"},
	"ux_verification_schedules__job_id":             {"verification_schedules", "active_job_id"},
}

func TestDesignIndexesExistOnEveryDialect(t *testing.T) {
	t.Parallel()
	for _, kind := range bunstoretest.Dialects {
		t.Run(string(kind), func(t *testing.T) {
			t.Parallel()
			s := bunstoretest.New(t, kind, nil)
			ctx := context.Background()
			for name, want := range designIndexes {
				table, cols := want[0], want[1:]
				var got []string
				var err error
				switch kind {
				case "sqlite":
					err = s.DB().NewRaw("SELECT name FROM pragma_index_info(?) ORDER BY seqno", name).Scan(ctx, &got)
				case "postgres":
					err = s.DB().NewRaw(`SELECT a.attname FROM pg_index i
						JOIN pg_class c ON c.oid = i.indexrelid
						JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
						WHERE c.relname = ? AND c.relnamespace = to_regnamespace(current_schema())::oid
						ORDER BY array_position(i.indkey, a.attnum)`, name).Scan(ctx, &got)
				case "mysql":
					err = s.DB().NewRaw(`SELECT column_name FROM information_schema.statistics
						WHERE table_schema = DATABASE() AND table_name = ? AND index_name = ?
						ORDER BY seq_in_index`, table, name).Scan(ctx, &got)
				}
				require.NoError(t, err, name)
				require.GreaterOrEqual(t, len(got), len(cols), "%s: index missing or too short: %v", name, got)
				require.Equal(t, cols, got[:len(cols)], "%s leads with the wrong columns", name)
			}
		})
	}
}

// Every foreign key leads an index, so deleting a parent never scans the
// child table (MySQL makes such indexes itself; the others do not). The
// three schemas are the same, so SQLite's catalogue speaks for all.
func TestEveryForeignKeyIsIndexed(t *testing.T) {
	t.Parallel()
	s := bunstoretest.New(t, "sqlite", nil)
	ctx := context.Background()
	total := 0
	for _, table := range bunstore.Tables() {
		var fks []string
		require.NoError(t, s.DB().NewRaw(`SELECT "from" FROM pragma_foreign_key_list(?)`, table).Scan(ctx, &fks))
		var leads []string
		require.NoError(t, s.DB().NewRaw(`SELECT ii.name FROM pragma_index_list(?) il
			JOIN pragma_index_info(il.name) ii WHERE ii.seqno = 0`, table).Scan(ctx, &leads))
		for _, fk := range fks {
			require.Contains(t, leads, fk, "%s.%s references another table but leads no index", table, fk)
		}
		total += len(fks)
	}
	require.Greater(t, total, 25, "the catalogue query found the foreign keys")
}
