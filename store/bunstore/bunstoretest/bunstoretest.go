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
	"sync"
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
	ctx := context.Background()
	var dsn string
	if opts.NoMigrate || kind == dbopen.SQLite {
		dsn = DSN(t, kind)
	} else {
		dsn = pooledDSN(t, kind)
	}
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

// Migrating a MariaDB database takes seconds (each DDL statement is
// synced), so migrated PostgreSQL schemas and MySQL databases are reused:
// when a test ends its rows are deleted and the database goes back to a
// pool for the next test. Main drops the pool when the tests end.
var pool = struct {
	sync.Mutex
	free    map[dbopen.Kind][]string
	cleanup []func()
}{free: map[dbopen.Kind][]string{}}

func pooledDSN(t testing.TB, kind dbopen.Kind) string {
	t.Helper()
	Require(t, kind)
	pool.Lock()
	var dsn string
	if free := pool.free[kind]; len(free) > 0 {
		dsn = free[len(free)-1]
		pool.free[kind] = free[:len(free)-1]
	}
	pool.Unlock()
	if dsn == "" {
		var err error
		dsn, err = createDatabase(kind)
		require.NoError(t, err)
	}
	t.Cleanup(func() {
		if err := emptyDatabase(dsn); err != nil {
			t.Logf("bunstoretest: empty database for reuse: %v", err)
			return
		}
		pool.Lock()
		pool.free[kind] = append(pool.free[kind], dsn)
		pool.Unlock()
	})
	return dsn
}

// emptyDatabase deletes every row of Custos's tables, children first.
func emptyDatabase(dsn string) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	d, err := dbopen.Open(ctx, dsn)
	if err != nil {
		return err
	}
	defer d.Close()
	tables := bunstore.Tables()
	for i := len(tables) - 1; i >= 0; i-- {
		if _, err := d.Write.ExecContext(ctx, "DELETE FROM "+tables[i]); err != nil {
			return fmt.Errorf("delete from %s: %w", tables[i], err)
		}
	}
	return nil
}

// createDatabase makes a migrated pooled database and registers its drop
// with Main.
func createDatabase(kind dbopen.Kind) (string, error) {
	ctx := context.Background()
	var (
		dsn  string
		drop func()
		err  error
	)
	switch kind {
	case dbopen.Postgres:
		dsn, drop, err = newPostgres()
	case dbopen.MySQL:
		dsn, drop, err = newMySQL()
	default:
		return "", fmt.Errorf("bunstoretest: no pool for %s", kind)
	}
	if err != nil {
		return "", err
	}
	pool.Lock()
	pool.cleanup = append(pool.cleanup, drop)
	pool.Unlock()
	d, err := dbopen.Open(ctx, dsn)
	if err != nil {
		return "", fmt.Errorf("bunstoretest: open pooled %s database: %w", kind, err)
	}
	defer d.Close()
	if _, err := bunstore.Migrate(ctx, d.Write); err != nil {
		return "", fmt.Errorf("bunstoretest: migrate pooled %s database: %w", kind, err)
	}
	return dsn, nil
}

// Main runs the tests and then drops the pooled databases. Packages whose
// tests use New on PostgreSQL or MySQL call it from TestMain:
//
//	func TestMain(m *testing.M) { os.Exit(bunstoretest.Main(m)) }
//
// Without it the databases named custos_t_* stay behind (.ci/run drops
// them before it starts).
func Main(m *testing.M) int {
	code := m.Run()
	pool.Lock()
	defer pool.Unlock()
	for _, drop := range pool.cleanup {
		drop()
	}
	pool.cleanup = nil
	return code
}

func uniqueName() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return "custos_t_" + hex.EncodeToString(b[:])
}

func postgresDSN(t testing.TB) string {
	t.Helper()
	Require(t, dbopen.Postgres)
	dsn, drop, err := newPostgres()
	require.NoError(t, err)
	t.Cleanup(drop)
	return dsn
}

func mysqlDSN(t testing.TB) string {
	t.Helper()
	Require(t, dbopen.MySQL)
	dsn, drop, err := newMySQL()
	require.NoError(t, err)
	t.Cleanup(drop)
	return dsn
}

// newPostgres creates an empty schema and returns a DSN that uses it and a
// function that drops it.
func newPostgres() (string, func(), error) {
	base := os.Getenv(EnvPostgres)
	u, err := url.Parse(base)
	if err != nil {
		return "", nil, fmt.Errorf("bunstoretest: parse %s: %w", EnvPostgres, err)
	}
	schema := uniqueName()
	if err := admin(dbopen.Postgres, base, "CREATE SCHEMA "+schema); err != nil {
		return "", nil, err
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String(), dropper(dbopen.Postgres, base, "DROP SCHEMA "+schema+" CASCADE"), nil
}

// newMySQL creates an empty database and returns its DSN and a function
// that drops it.
func newMySQL() (string, func(), error) {
	base := os.Getenv(EnvMySQL)
	cfg, err := mysql.ParseDSN(base)
	if err != nil {
		return "", nil, fmt.Errorf("bunstoretest: parse %s: %w", EnvMySQL, err)
	}
	name := uniqueName()
	if err := admin(dbopen.MySQL, base, "CREATE DATABASE "+name+" CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"); err != nil {
		return "", nil, err
	}
	cfg.DBName = name
	return cfg.FormatDSN(), dropper(dbopen.MySQL, base, "DROP DATABASE IF EXISTS "+name), nil
}

// admin runs one statement on the server named by base.
func admin(kind dbopen.Kind, base, stmt string) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	d, err := dbopen.Open(ctx, base)
	if err != nil {
		return fmt.Errorf("bunstoretest: connect to %s: %w", kind, err)
	}
	defer d.Close()
	if _, err := d.Write.ExecContext(ctx, stmt); err != nil {
		return fmt.Errorf("bunstoretest: %s: %w", stmt, err)
	}
	return nil
}

// dropper returns a drop function that reports failures on stderr: it runs
// after the tests, when there is no test to fail.
func dropper(kind dbopen.Kind, base, stmt string) func() {
	return func() {
		if err := admin(kind, base, stmt); err != nil {
			fmt.Fprintln(os.Stderr, err)
		}
	}
}

// Require skips the test, saying how to run it, when kind needs a server
// that is not configured.
func Require(t testing.TB, kind dbopen.Kind) {
	t.Helper()
	switch kind {
	case dbopen.Postgres:
		if os.Getenv(EnvPostgres) == "" {
			t.Skipf("PostgreSQL tests skipped: set %s (e.g. postgres://postgres@127.0.0.1:5432/custos_test?sslmode=disable) to run them", EnvPostgres)
		}
	case dbopen.MySQL:
		if os.Getenv(EnvMySQL) == "" {
			t.Skipf("MySQL tests skipped: set %s (e.g. root@tcp(127.0.0.1:3306)/custos_test?parseTime=true&loc=UTC) to run them", EnvMySQL)
		}
	}
}
