package bunstore

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect"
	"github.com/uptrace/bun/dialect/feature"

	"github.com/custos-dev/custos/store"
)

// Config holds the optional settings of a Store. The zero value is ready to
// use.
type Config struct {
	// WriteDB, when set, takes every write and transaction while the DB given
	// to New serves reads outside transactions. SQLite uses it: one write
	// connection (MaxOpenConns 1) so writers queue in Go instead of failing
	// with SQLITE_BUSY, and a pool of readers beside it. Defaults to the DB
	// given to New.
	WriteDB *bun.DB
	// Now returns the current time; stored times are set from it. Defaults
	// to time.Now.
	Now func() time.Time
	// NewID returns a new row ID. Defaults to store.NewID (UUIDv7).
	NewID func() string
	// CheckpointEvery, when set, runs an SQLite WAL checkpoint (PRAGMA
	// wal_checkpoint(PASSIVE)) that often on the read pool, from a goroutine
	// Close stops. A checkpoint copies the log into the database file and
	// syncs it; run by the writer at commit (SQLite's autocheckpoint) it
	// stalls every write queued behind that commit for the length of the
	// sync, which is the tail latency of ingest. Only for SQLite with a
	// WriteDB of its own; dbopen sets it. Defaults to none.
	CheckpointEvery time.Duration
}

func (c *Config) withDefaults(db *bun.DB) Config {
	var out Config
	if c != nil {
		out = *c
	}
	out.WriteDB = cmp.Or(out.WriteDB, db)
	if out.Now == nil {
		out.Now = time.Now
	}
	if out.NewID == nil {
		out.NewID = store.NewID
	}
	return out
}

// Store implements store.Store over bun for SQLite, PostgreSQL and
// MySQL/MariaDB.
type Store struct {
	conn
	rdb *bun.DB
	wdb *bun.DB
	// prep holds the prepared hot statements (prepared.go), shared by the
	// copies WithQueryHook makes; hooks are the hooks it attached, which
	// those statements run as bun runs them for its queries.
	prep  *preparedStmts
	hooks []bun.QueryHook
	// ckpt runs the background WAL checkpoints (checkpoint.go); shared
	// by the copies too.
	ckpt *checkpointer
}

var _ store.Store = (*Store)(nil)

// New returns a Store over db. The schema must have been migrated (Migrate).
// Close closes db and Config.WriteDB.
func New(db *bun.DB, cfg *Config) (*Store, error) {
	if db == nil {
		return nil, errors.New("bunstore: nil db")
	}
	c := cfg.withDefaults(db)
	if c.WriteDB.Dialect().Name() != db.Dialect().Name() {
		return nil, errors.New("bunstore: WriteDB has another dialect than db")
	}
	s := &Store{rdb: db, wdb: c.WriteDB, prep: &preparedStmts{}, ckpt: newCheckpointer(db, c.CheckpointEvery)}
	s.conn = conn{
		r:       db,
		w:       c.WriteDB,
		store:   s,
		now:     c.Now,
		newID:   c.NewID,
		dialect: db.Dialect().Name(),
		feats:   db.Dialect().Features(),
	}
	return s, nil
}

// DB returns the database that takes writes, for migrations and for
// attaching query hooks.
func (s *Store) DB() *bun.DB { return s.wdb }

// ReadDB returns the database reads go through: on SQLite a pool of its
// own beside the one write connection, elsewhere the same as DB.
func (s *Store) ReadDB() *bun.DB { return s.rdb }

// WithQueryHook returns a Store that runs h on every query, on every
// database the store uses. It shares the connections (and Close) with s.
func (s *Store) WithQueryHook(h bun.QueryHook) *Store {
	out := *s
	out.rdb = s.rdb.WithQueryHook(h)
	out.wdb = out.rdb
	out.hooks = append(slices.Clip(s.hooks), h)
	if s.wdb != s.rdb {
		out.wdb = s.wdb.WithQueryHook(h)
	}
	out.conn = s.conn
	out.conn.r, out.conn.w, out.conn.store = out.rdb, out.wdb, &out
	return &out
}

// Ping reports whether the database answers. It uses the read pool, so on
// SQLite it does not queue behind a write transaction.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.rdb.PingContext(ctx); err != nil {
		return fmt.Errorf("bunstore: ping: %w", err)
	}
	return nil
}

// Pending returns the migrations not yet applied, through the read pool;
// readiness checks use it.
func (s *Store) Pending(ctx context.Context) ([]string, error) { return Pending(ctx, s.rdb) }

// Close closes the databases.
func (s *Store) Close() error {
	s.ckpt.stop()
	err := errors.Join(s.prep.close(), s.rdb.Close())
	if s.wdb != s.rdb {
		err = errors.Join(err, s.wdb.Close())
	}
	return err
}

// conn is what every repository works through: r for reads, w for writes.
// Outside a transaction they are the Store's databases; inside, both are the
// transaction.
type conn struct {
	r       bun.IDB
	w       bun.IDB
	tx      *bun.Tx
	store   *Store
	now     func() time.Time
	newID   func() string
	dialect dialect.Name
	feats   feature.Feature
}

// InTx runs fn in a transaction; see store.Store. Nested, it runs fn in a
// savepoint.
func (c *conn) InTx(ctx context.Context, fn func(ctx context.Context, tx store.Repos) error) error {
	return c.runTx(ctx, nil, true, func(tx *conn) error { return fn(ctx, tx) })
}

// runTx runs fn in a new transaction begun with opts that commits when fn
// returns nil and rolls back on an error or a panic. Inside a transaction it
// runs fn in a savepoint when nested is set, and plainly otherwise.
func (c *conn) runTx(ctx context.Context, opts *sql.TxOptions, nested bool, fn func(tx *conn) error) error {
	var (
		tx  bun.Tx
		err error
	)
	switch {
	case c.tx != nil && !nested:
		return fn(c)
	case c.tx != nil:
		tx, err = c.tx.BeginTx(ctx, nil) // SAVEPOINT
	default:
		c.store.prep.warm(ctx, c)
		tx, err = c.store.wdb.BeginTx(ctx, opts)
	}
	if err != nil {
		return mapErr(err)
	}
	inner := *c
	inner.r, inner.w, inner.tx = &tx, &tx, &tx
	committed := false
	defer func() {
		if !committed {
			_ = tx.Rollback()
		}
	}()
	if err := fn(&inner); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return mapErr(err)
	}
	committed = true
	return nil
}

// stamp returns the current time in stored form.
func (c *conn) stamp() time.Time { return store.NormalizeTime(c.now()) }

// inWriteTx runs fn in the current transaction, or in a new one. Writes that
// touch several rows use it so they are all-or-nothing.
func (c *conn) inWriteTx(ctx context.Context, fn func(c *conn) error) error {
	return c.runTx(ctx, nil, false, fn)
}

// forUpdate adds a row lock to a select inside a transaction on databases
// that have one; SQLite needs none, its transactions take the write lock.
func (c *conn) forUpdate(q *bun.SelectQuery) *bun.SelectQuery {
	if c.tx != nil && c.dialect != dialect.SQLite {
		return q.For("UPDATE")
	}
	return q
}

// affected maps a write that matched no row to store.ErrNotFound. MySQL
// reports changed rows, not matched ones, unless the DSN sets
// clientFoundRows, so there a zero is checked with a lookup by key.
func (c *conn) affected(ctx context.Context, res sql.Result, err error, table, keyCol string, key any) error {
	if err != nil {
		return mapErr(err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return mapErr(err)
	}
	if n > 0 {
		return nil
	}
	if c.dialect == dialect.MySQL {
		exists, err := c.w.NewSelect().TableExpr(table).Where("? = ?", bun.Ident(keyCol), key).Exists(ctx)
		if err != nil {
			return mapErr(err)
		}
		if exists {
			return nil
		}
	}
	return store.ErrNotFound
}
