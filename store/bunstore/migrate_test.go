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
