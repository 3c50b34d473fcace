package main

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
	"github.com/custos-dev/custos/store/bunstore/dbopen"
)

// knownVersions lists the embedded migration versions, oldest first; every
// dialect has the same ones.
func knownVersions(t *testing.T) []string {
	t.Helper()
	dir, err := bunstore.MigrationDir(dialect.SQLite)
	require.NoError(t, err)
	entries, err := fs.ReadDir(dir, ".")
	require.NoError(t, err)
	var out []string
	for _, e := range entries {
		v, _, _ := strings.Cut(e.Name(), ".")
		if !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	require.NotEmpty(t, out)
	return out
}

// statusRow is one line of 'migrate status'.
type statusRow struct {
	version, applied, appliedAt string
}

func parseStatus(t *testing.T, out string) []statusRow {
	t.Helper()
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	require.Equal(t, []string{"VERSION", "APPLIED", "APPLIED_AT"}, strings.Fields(lines[0]), "header of:\n%s", out)
	var rows []statusRow
	for _, l := range lines[1:] {
		f := strings.Fields(l)
		require.Len(t, f, 3, "status line %q", l)
		rows = append(rows, statusRow{f[0], f[1], f[2]})
	}
	return rows
}

// pendingIn reads the pending migrations straight from the database.
func pendingIn(t *testing.T, dsn string) []string {
	t.Helper()
	ctx := context.Background()
	s, err := dbopen.OpenStore(ctx, dsn, nil)
	require.NoError(t, err)
	defer s.Close()
	p, err := bunstore.Pending(ctx, s.DB())
	require.NoError(t, err)
	return p
}

func TestMigrateUpStatusDownUp(t *testing.T) {
	t.Parallel()
	for _, kind := range bunstoretest.Dialects {
		t.Run(string(kind), func(t *testing.T) {
			t.Parallel()
			dsn := bunstoretest.DSN(t, kind)
			env := map[string]string{envDB: dsn}
			versions := knownVersions(t)

			r := runCmd(t, env, "migrate", "status")
			require.Equal(t, exitOK, r.code, r.stderr)
			rows := parseStatus(t, r.stdout)
			require.Len(t, rows, len(versions))
			for i, row := range rows {
				require.Equal(t, statusRow{versions[i], "no", "-"}, row)
			}

			r = runCmd(t, env, "migrate", "up")
			require.Equal(t, exitOK, r.code, r.stderr)
			var want strings.Builder
			for _, v := range versions {
				want.WriteString("applied " + v + "\n")
			}
			require.Equal(t, want.String(), r.stdout)
			require.Empty(t, pendingIn(t, dsn))

			r = runCmd(t, env, "migrate", "status")
			require.Equal(t, exitOK, r.code, r.stderr)
			rows = parseStatus(t, r.stdout)
			require.Len(t, rows, len(versions))
			for i, row := range rows {
				require.Equal(t, versions[i], row.version)
				require.Equal(t, "yes", row.applied)
				require.Regexp(t, `^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$`, row.appliedAt)
			}

			r = runCmd(t, env, "migrate", "up")
			require.Equal(t, exitOK, r.code, r.stderr)
			require.Equal(t, "nothing to apply\n", r.stdout)

			// --db after the action wins over CUSTOS_DB.
			r = runCmd(t, map[string]string{envDB: "sqlite:" + t.TempDir() + "/other.db"}, "migrate", "down", "--db", dsn)
			require.Equal(t, exitOK, r.code, r.stderr)
			undone := strings.Fields(strings.ReplaceAll(r.stdout, "rolled back ", ""))
			require.ElementsMatch(t, versions, undone, r.stdout)
			require.Equal(t, versions, pendingIn(t, dsn))

			r = runCmd(t, env, "migrate", "status")
			require.Equal(t, exitOK, r.code, r.stderr)
			for _, row := range parseStatus(t, r.stdout) {
				require.Equal(t, "no", row.applied, row.version)
			}

			r = runCmd(t, env, "migrate", "down")
			require.Equal(t, exitOK, r.code, r.stderr)
			require.Equal(t, "nothing to roll back\n", r.stdout)

			r = runCmd(t, env, "migrate", "--db", dsn, "up")
			require.Equal(t, exitOK, r.code, r.stderr)
			require.Equal(t, want.String(), r.stdout)
			require.Empty(t, pendingIn(t, dsn))
		})
	}
}

func TestMigrateUnlockClearsAStaleLock(t *testing.T) {
	t.Parallel()
	for _, kind := range bunstoretest.Dialects {
		t.Run(string(kind), func(t *testing.T) {
			t.Parallel()
			dsn := bunstoretest.DSN(t, kind)
			env := map[string]string{envDB: dsn}

			r := runCmd(t, env, "migrate", "status") // creates the bookkeeping tables
			require.Equal(t, exitOK, r.code, r.stderr)
			func() {
				ctx := context.Background()
				s, err := dbopen.OpenStore(ctx, dsn, nil)
				require.NoError(t, err)
				defer s.Close()
				// What a process that died while migrating leaves behind.
				_, err = s.DB().ExecContext(ctx, "INSERT INTO custos_migration_locks (table_name) VALUES ('custos_migrations')")
				require.NoError(t, err)
			}()

			r = runCmd(t, env, "migrate", "up")
			require.Equal(t, exitFail, r.code)
			require.Contains(t, r.stderr, "locked by another process")
			require.Contains(t, r.stderr, "refserver migrate unlock")
			require.Empty(t, r.stdout)
			require.Equal(t, knownVersions(t), pendingIn(t, dsn), "nothing applied while locked")

			r = runCmd(t, env, "migrate", "unlock")
			require.Equal(t, exitOK, r.code, r.stderr)
			require.Equal(t, "migration lock removed\n", r.stdout)

			r = runCmd(t, env, "migrate", "up")
			require.Equal(t, exitOK, r.code, r.stderr)
			require.Contains(t, r.stdout, "applied ")
			require.Empty(t, pendingIn(t, dsn))
		})
	}
}
