// Package dbopen opens a Custos store from a database URL. Importing it
// links the three SQL drivers Custos supports (modernc.org/sqlite, pgx and
// go-sql-driver/mysql); the rest of the library links none, so an embedder
// who brings their own *sql.DB can use store/bunstore directly.
package dbopen

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/mysqldialect"
	"github.com/uptrace/bun/dialect/pgdialect"
	"github.com/uptrace/bun/dialect/sqlitedialect"
	_ "modernc.org/sqlite" // registers the "sqlite" driver

	"github.com/custos-dev/custos/store/bunstore"
)

// DSNDefault is the database used when none is given: SQLite in the working
// directory.
const DSNDefault = "sqlite:custos.db"

// Kind names a supported database.
type Kind string

// Supported databases.
const (
	SQLite   Kind = "sqlite"
	Postgres Kind = "postgres"
	MySQL    Kind = "mysql"
)

// DB is an opened database: Read serves reads outside transactions and
// Write takes writes. They are the same *bun.DB except on SQLite.
type DB struct {
	Kind  Kind
	Read  *bun.DB
	Write *bun.DB
}

// Close closes the database handles.
func (d *DB) Close() error {
	err := d.Read.Close()
	if d.Write != d.Read {
		err = errors.Join(err, d.Write.Close())
	}
	return err
}

// Open opens the database named by dsn and checks that it answers:
//
//   - sqlite:PATH (or a path ending in .db): SQLite in WAL mode with
//     synchronous=NORMAL (sqlite:PATH?synchronous=full to sync every
//     commit), a busy timeout, foreign keys on, immediate transactions, one
//     write connection and a pool of readers;
//   - postgres://… or postgresql://…: PostgreSQL through pgx;
//   - mysql://user:pass@host:port/db?…: MySQL or MariaDB, UTC end to end,
//     utf8mb4; the raw go-sql-driver form (user:pass@tcp(host:port)/db) is
//     also accepted.
func Open(ctx context.Context, dsn string) (*DB, error) {
	kind, rest, err := parse(dsn)
	if err != nil {
		return nil, err
	}
	var d *DB
	switch kind {
	case SQLite:
		d, err = openSQLite(rest)
	case Postgres:
		d, err = openPostgres(rest)
	case MySQL:
		d, err = openMySQL(rest)
	}
	if err != nil {
		return nil, err
	}
	if err := d.Write.PingContext(ctx); err != nil {
		_ = d.Close()
		return nil, fmt.Errorf("dbopen: connect to %s: %w", kind, err)
	}
	return d, nil
}

// OpenStore opens dsn and returns a store over it. It does not migrate.
func OpenStore(ctx context.Context, dsn string, cfg *bunstore.Config) (*bunstore.Store, error) {
	d, err := Open(ctx, dsn)
	if err != nil {
		return nil, err
	}
	var c bunstore.Config
	if cfg != nil {
		c = *cfg
	}
	c.WriteDB = d.Write
	if d.Kind == SQLite && c.CheckpointEvery == 0 {
		c.CheckpointEvery = sqliteCheckpointEvery
	}
	s, err := bunstore.New(d.Read, &c)
	if err != nil {
		_ = d.Close()
		return nil, err
	}
	return s, nil
}

// Redact returns dsn with any password replaced, for logs.
func Redact(dsn string) string {
	if u, err := url.Parse(dsn); err == nil && (u.Scheme == "postgres" || u.Scheme == "postgresql" || u.Scheme == "mysql") {
		if _, ok := u.User.Password(); ok {
			u.User = url.UserPassword(u.User.Username(), "xxxxx")
		}
		if q := u.Query(); q.Has("password") {
			q.Set("password", "xxxxx")
			u.RawQuery = q.Encode()
		}
		return u.String()
	}
	if cfg, err := mysql.ParseDSN(dsn); err == nil && cfg.Passwd != "" {
		cfg.Passwd = "xxxxx"
		return cfg.FormatDSN()
	}
	// Unparseable: mask whatever sits between "user:" and "@".
	return passwordRE.ReplaceAllString(dsn, "${1}xxxxx@")
}

var passwordRE = regexp.MustCompile(`([/@]?[^:/@]+:)[^@/]*@`)

func parse(dsn string) (Kind, string, error) {
	switch {
	case dsn == "":
		return parse(DSNDefault)
	case strings.HasPrefix(dsn, "sqlite:"):
		p := strings.TrimPrefix(strings.TrimPrefix(dsn, "sqlite:"), "//")
		if p == "" {
			return "", "", errors.New("dbopen: sqlite: needs a file path, e.g. sqlite:custos.db")
		}
		return SQLite, p, nil
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		return Postgres, dsn, nil
	case strings.HasPrefix(dsn, "mysql://"):
		raw, err := mysqlURLToDSN(dsn)
		return MySQL, raw, err
	case strings.Contains(dsn, "@tcp("), strings.Contains(dsn, "@unix("):
		return MySQL, dsn, nil
	case strings.HasSuffix(dsn, ".db"), strings.HasSuffix(dsn, ".sqlite"):
		return SQLite, dsn, nil
	}
	return "", "", fmt.Errorf("dbopen: unknown database %q: want sqlite:PATH, postgres://… or mysql://…", Redact(dsn))
}

// sqliteCheckpointEvery is how often OpenStore's SQLite store checkpoints
// the WAL in the background (bunstore.Config.CheckpointEvery).
const sqliteCheckpointEvery = 200 * time.Millisecond

func openSQLite(path string) (*DB, error) {
	// synchronous=NORMAL in WAL mode survives a crash of the process but may
	// lose the last commits if the machine loses power; FULL syncs every
	// commit, at a price in write throughput.
	sync := "NORMAL"
	if p, query, ok := strings.Cut(path, "?"); ok {
		path = p
		q, err := url.ParseQuery(query)
		if err != nil {
			return nil, errors.New("dbopen: sqlite: malformed options after '?'")
		}
		for k, v := range q {
			switch {
			case k == "synchronous" && slices.Contains([]string{"normal", "full", "extra"}, strings.ToLower(v[len(v)-1])):
				sync = strings.ToUpper(v[len(v)-1])
			default:
				return nil, fmt.Errorf("dbopen: sqlite: unknown option %q (known: synchronous=normal|full|extra)", k)
			}
		}
	}
	if path != ":memory:" {
		abs, err := filepath.Abs(path)
		if err != nil {
			return nil, fmt.Errorf("dbopen: sqlite path: %w", err)
		}
		path = abs
	} else {
		return nil, errors.New("dbopen: sqlite: an in-memory database cannot be shared by the reader and writer pools; give a file path")
	}
	pragmas := "_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(" + sync + ")" +
		"&_pragma=foreign_keys(1)&_pragma=temp_store(MEMORY)" +
		// The store checkpoints in the background (sqliteCheckpointEvery);
		// the writer's own checkpoint is the backstop for a log that grew
		// past 400 MB anyway (a reader holding it, a raw *sql.DB user).
		"&_pragma=wal_autocheckpoint(100000)"
	// Page caches: 16 MB for the writer, which touches the indexes of every
	// write, 4 MB for each reader (reads of hot data are served by the
	// cache package); with the reader pool that bounds SQLite's page
	// memory near 32 MB.
	w, err := sql.Open("sqlite", "file:"+path+"?"+pragmas+"&_pragma=cache_size(-16000)&_txlock=immediate")
	if err != nil {
		return nil, fmt.Errorf("dbopen: sqlite: %w", err)
	}
	// One writer: writes queue in database/sql, never in SQLite's lock.
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)
	r, err := sql.Open("sqlite", "file:"+path+"?"+pragmas+"&_pragma=cache_size(-4000)&_pragma=query_only(1)")
	if err != nil {
		_ = w.Close()
		return nil, fmt.Errorf("dbopen: sqlite: %w", err)
	}
	n := max(4, runtime.GOMAXPROCS(0)*2)
	r.SetMaxOpenConns(n)
	r.SetMaxIdleConns(n)
	r.SetConnMaxIdleTime(5 * time.Minute)
	wdb := bun.NewDB(w, sqlitedialect.New())
	// The writer creates the file and switches it to WAL before any reader
	// opens it.
	if err := w.Ping(); err != nil {
		_ = w.Close()
		_ = r.Close()
		return nil, fmt.Errorf("dbopen: sqlite: open %s: %w", path, err)
	}
	return &DB{Kind: SQLite, Read: bun.NewDB(r, sqlitedialect.New()), Write: wdb}, nil
}

func openPostgres(dsn string) (*DB, error) {
	sqldb, err := sql.Open("pgx", dsn)
	if err != nil {
		return nil, fmt.Errorf("dbopen: postgres: %w", err)
	}
	sqldb.SetMaxOpenConns(max(8, runtime.GOMAXPROCS(0)*4))
	sqldb.SetMaxIdleConns(max(8, runtime.GOMAXPROCS(0)*4))
	sqldb.SetConnMaxIdleTime(5 * time.Minute)
	db := bun.NewDB(sqldb, pgdialect.New())
	return &DB{Kind: Postgres, Read: db, Write: db}, nil
}

// mysqlURLToDSN turns mysql://user:pass@host:port/db?params into the
// driver's user:pass@tcp(host:port)/db?params form.
func mysqlURLToDSN(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		// url.Parse quotes the whole URL, password included.
		return "", errors.New("dbopen: malformed mysql URL: want mysql://user:pass@host:3306/db")
	}
	cfg := mysql.NewConfig()
	if u.User != nil {
		cfg.User = u.User.Username()
		cfg.Passwd, _ = u.User.Password()
	}
	cfg.Net = "tcp"
	cfg.Addr = u.Host
	if u.Port() == "" && u.Host != "" {
		cfg.Addr = u.Host + ":3306"
	}
	cfg.DBName = strings.TrimPrefix(u.Path, "/")
	if cfg.DBName == "" {
		return "", errors.New("dbopen: mysql URL needs a database name: mysql://user:pass@host:3306/custos")
	}
	if len(u.Query()) > 0 {
		cfg.Params = map[string]string{}
		for k, v := range u.Query() {
			cfg.Params[k] = v[len(v)-1]
		}
	}
	return cfg.FormatDSN(), nil
}

func openMySQL(dsn string) (*DB, error) {
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		return nil, fmt.Errorf("dbopen: mysql DSN: %w", err)
	}
	// UTC end to end: the driver reads DATETIME as UTC and the session
	// compares in UTC; utf8mb4 for all of Unicode.
	cfg.ParseTime = true
	cfg.Loc = time.UTC
	cfg.Collation = "utf8mb4_bin"
	cfg.ClientFoundRows = true
	if cfg.Params == nil {
		cfg.Params = map[string]string{}
	}
	cfg.Params["time_zone"] = "'+00:00'"
	cfg.Params["sql_mode"] = "'STRICT_ALL_TABLES,NO_ZERO_DATE,NO_ZERO_IN_DATE,ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION'"
	connector, err := mysql.NewConnector(cfg)
	if err != nil {
		return nil, fmt.Errorf("dbopen: mysql: %w", err)
	}
	sqldb := sql.OpenDB(connector)
	sqldb.SetMaxOpenConns(max(8, runtime.GOMAXPROCS(0)*4))
	sqldb.SetMaxIdleConns(max(8, runtime.GOMAXPROCS(0)*4))
	sqldb.SetConnMaxLifetime(time.Hour)
	sqldb.SetConnMaxIdleTime(5 * time.Minute)
	db := bun.NewDB(sqldb, mysqldialect.New())
	return &DB{Kind: MySQL, Read: db, Write: db}, nil
}
