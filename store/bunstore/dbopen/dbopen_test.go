package dbopen

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestParseNamesTheDatabaseKind(t *testing.T) {
	t.Parallel()
	tests := []struct {
		dsn  string
		kind Kind
		rest string
	}{
		{"", SQLite, "custos.db"},
		{"sqlite:data/custos.db", SQLite, "data/custos.db"},
		{"sqlite:///var/lib/custos.db", SQLite, "/var/lib/custos.db"},
		{"backups.db", SQLite, "backups.db"},
		{"postgres://u:p@db:5432/custos?sslmode=disable", Postgres, "postgres://u:p@db:5432/custos?sslmode=disable"},
		{"postgresql://db/custos", Postgres, "postgresql://db/custos"},
		{"mysql://u:p@db:3307/custos", MySQL, "u:p@tcp(db:3307)/custos"},
		{"mysql://u@db/custos?timeout=5s", MySQL, "u@tcp(db:3306)/custos?timeout=5s"},
		{"root@tcp(127.0.0.1:3306)/custos?parseTime=true", MySQL, "root@tcp(127.0.0.1:3306)/custos?parseTime=true"},
	}
	for _, tt := range tests {
		kind, rest, err := parse(tt.dsn)
		require.NoError(t, err, tt.dsn)
		require.Equal(t, tt.kind, kind, tt.dsn)
		require.Equal(t, tt.rest, rest, tt.dsn)
	}
}

func TestParseRejectsUnknownAndIncompleteURLs(t *testing.T) {
	t.Parallel()
	for _, dsn := range []string{"oracle://db/x", "sqlite:", "mysql://u:p@db:3306/", "mysql://u:s3cret@db:3306/%zz"} {
		_, _, err := parse(dsn)
		require.Error(t, err, dsn)
		require.NotContains(t, err.Error(), "s3cret", "errors never show a password")
	}
}

func TestRedactHidesPasswords(t *testing.T) {
	t.Parallel()
	for _, dsn := range []string{
		"postgres://custos:s3cret@db:5432/custos",
		"mysql://custos:s3cret@db:3306/custos",
		"custos:s3cret@tcp(db:3306)/custos",
		"mysql://custos:s3cret@db:3306/%zz",
		"postgres://custos@db:5432/custos?password=s3cret&sslmode=disable",
	} {
		got := Redact(dsn)
		require.NotContains(t, got, "s3cret", dsn)
		require.Contains(t, got, "custos", dsn)
	}
	require.Equal(t, "sqlite:custos.db", Redact("sqlite:custos.db"))
}

func TestOpenSQLiteSetsPragmas(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d, err := Open(ctx, "sqlite:"+t.TempDir()+"/p.db")
	require.NoError(t, err)
	defer d.Close()
	var mode string
	require.NoError(t, d.Write.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode))
	require.Equal(t, "wal", strings.ToLower(mode))
	var fk, sync, busy int
	require.NoError(t, d.Write.QueryRowContext(ctx, "PRAGMA foreign_keys").Scan(&fk))
	require.NoError(t, d.Write.QueryRowContext(ctx, "PRAGMA synchronous").Scan(&sync))
	require.NoError(t, d.Write.QueryRowContext(ctx, "PRAGMA busy_timeout").Scan(&busy))
	require.Equal(t, 1, fk)
	require.Equal(t, 1, sync, "NORMAL")
	require.Positive(t, busy)
	require.Equal(t, 1, d.Write.DB.Stats().MaxOpenConnections, "one write connection")
	var qo int
	require.NoError(t, d.Read.QueryRowContext(ctx, "PRAGMA query_only").Scan(&qo))
	require.Equal(t, 1, qo, "the read pool cannot write")

	_, err = Open(ctx, "sqlite::memory:")
	require.Error(t, err)

	full, err := Open(ctx, "sqlite:"+t.TempDir()+"/f.db?synchronous=full")
	require.NoError(t, err)
	defer full.Close()
	require.NoError(t, full.Write.QueryRowContext(ctx, "PRAGMA synchronous").Scan(&sync))
	require.Equal(t, 2, sync, "FULL")
	_, err = Open(ctx, "sqlite:"+t.TempDir()+"/f.db?cache=huge")
	require.ErrorContains(t, err, "unknown option")
}

// TestSQLiteStoreCheckpointsInTheBackground: pages written through the
// one write connection reach the database file without any commit running
// a checkpoint (the writer's autocheckpoint is only a far backstop), and
// Close stops the checkpointer.
func TestSQLiteStoreCheckpointsInTheBackground(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "custos.db")
	s, err := OpenStore(ctx, "sqlite:"+path, nil)
	require.NoError(t, err)
	db := s.DB()
	_, err = db.ExecContext(ctx, "CREATE TABLE blobs (b BLOB)")
	require.NoError(t, err)
	size := func() int64 {
		fi, err := os.Stat(path)
		require.NoError(t, err)
		return fi.Size()
	}
	before := size()
	for range 40 {
		_, err = db.ExecContext(ctx, "INSERT INTO blobs VALUES (randomblob(100000))")
		require.NoError(t, err)
	}
	require.Eventually(t, func() bool { return size() > before+3_000_000 }, 10*time.Second, 20*time.Millisecond,
		"4 MB written through the log reach the database file")
	require.NoError(t, s.Close())
}
