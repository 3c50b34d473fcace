// Package bunstoretest makes isolated, migrated bun stores for tests: a
// SQLite file under t.TempDir(), a fresh PostgreSQL schema, or a fresh
// MySQL/MariaDB database, each dropped when the test ends.
//
// PostgreSQL and MySQL need a server: set CUSTOS_TEST_POSTGRES_DSN (e.g.
// postgres://postgres@127.0.0.1:5432/custos_test?sslmode=disable) and
// CUSTOS_TEST_MYSQL_DSN (e.g.
// root@tcp(127.0.0.1:3306)/custos_test?parseTime=true&loc=UTC). Without them
// those tests skip, saying so; .ci/run always sets both.
package bunstoretest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/stretchr/testify/require"

	"github.com/custos-dev/custos/store/bunstore"
	"github.com/custos-dev/custos/store/bunstore/dbopen"
)

// Environment variables naming the test servers.
const (
	EnvPostgres = "CUSTOS_TEST_POSTGRES_DSN"
	EnvMySQL    = "CUSTOS_TEST_MYSQL_DSN"
)

// Dialects lists the databases tests run on, in order.
var Dialects = []dbopen.Kind{dbopen.SQLite, dbopen.Postgres, dbopen.MySQL}

// Options tune a test store.
type Options struct {
	// Config is passed to bunstore.New (WriteDB is set by the helper).
	Config *bunstore.Config
	// NoMigrate leaves the database empty, for migration tests.
	NoMigrate bool
}

// New returns a fresh migrated store on the given database, or skips the
// test when that database is not configured.
func New(t testing.TB, kind dbopen.Kind, opts *Options) *bunstore.Store {
	t.Helper()
	if opts == nil {
		opts = &Options{}
	}
	dsn := DSN(t, kind)
	ctx := context.Background()
	s, err := dbopen.OpenStore(ctx, dsn, opts.Config)
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	if !opts.NoMigrate {
		_, err := bunstore.Migrate(ctx, s.DB())
		require.NoError(t, err)
	}
	return s
}

// DSN returns the DSN of a fresh, empty database of the given kind, dropped
// when the test ends, or skips the test when the kind is not configured.
func DSN(t testing.TB, kind dbopen.Kind) string {
	t.Helper()
	switch kind {
	case dbopen.SQLite:
		return "sqlite:" + filepath.Join(t.TempDir(), "custos.db")
	case dbopen.Postgres:
		return postgresDSN(t)
	case dbopen.MySQL:
		return mysqlDSN(t)
	}
	t.Fatalf("bunstoretest: unknown database %q", kind)
	return ""
}

func uniqueName() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return "custos_t_" + hex.EncodeToString(b[:])
}

func postgresDSN(t testing.TB) string {
	base := os.Getenv(EnvPostgres)
	if base == "" {
		t.Skipf("PostgreSQL tests skipped: set %s (e.g. postgres://postgres@127.0.0.1:5432/custos_test?sslmode=disable) to run them", EnvPostgres)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	admin, err := dbopen.Open(ctx, base)
	require.NoError(t, err, "connect to %s", EnvPostgres)
	defer admin.Close()
	schema := uniqueName()
	_, err = admin.Write.ExecContext(ctx, "CREATE SCHEMA "+schema)
	require.NoError(t, err)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		admin, err := dbopen.Open(ctx, base)
		if err != nil {
			t.Logf("drop schema %s: %v", schema, err)
			return
		}
		defer admin.Close()
		if _, err := admin.Write.ExecContext(ctx, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Logf("drop schema %s: %v", schema, err)
		}
	})
	u, err := url.Parse(base)
	require.NoError(t, err)
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

func mysqlDSN(t testing.TB) string {
	base := os.Getenv(EnvMySQL)
	if base == "" {
		t.Skipf("MySQL tests skipped: set %s (e.g. root@tcp(127.0.0.1:3306)/custos_test?parseTime=true&loc=UTC) to run them", EnvMySQL)
	}
	cfg, err := mysql.ParseDSN(base)
	require.NoError(t, err, "parse %s", EnvMySQL)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	admin, err := dbopen.Open(ctx, base)
	require.NoError(t, err, "connect to %s", EnvMySQL)
	defer admin.Close()
	name := uniqueName()
	_, err = admin.Write.ExecContext(ctx, "CREATE DATABASE "+name+" CHARACTER SET utf8mb4 COLLATE utf8mb4_bin")
	require.NoError(t, err)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		admin, err := dbopen.Open(ctx, base)
		if err != nil {
			t.Logf("drop database %s: %v", name, err)
			return
		}
		defer admin.Close()
		if _, err := admin.Write.ExecContext(ctx, "DROP DATABASE "+name); err != nil {
			t.Logf("drop database %s: %v", name, err)
		}
	})
	cfg.DBName = name
	return cfg.FormatDSN()
}

// Name returns a short test name for a kind.
func Name(kind dbopen.Kind) string { return fmt.Sprint(kind) }
