package bunstore

import (
	"context"
	"database/sql"
	"errors"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect"
)

// Prepared statements for the hot paths. bun formats every value into the
// SQL text, so the database parses each statement anew: on SQLite that is
// about a third of the CPU of recording a run. The statements here are
// written by hand with placeholders and prepared once per database;
// database/sql then keeps them prepared on each connection that runs them,
// inside transactions through Tx.StmtContext.
//
// They are prepared outside any transaction (warm, when a transaction
// begins): preparing on a *sql.DB takes a connection from the pool, which
// inside a transaction on SQLite's single write connection would wait for
// itself. Until they are prepared (a database not migrated yet), callers
// take the general bun path.

// preparedStmts holds the prepared statements of one write database.
type preparedStmts struct {
	ready atomic.Bool
	mu    sync.Mutex
	stmts map[string]*sql.Stmt // by the statement's text as written (with ?)
	// failed is when the last warm failed, so an unmigrated database is not
	// asked on every transaction.
	failed time.Time
	closed bool
}

// preparedRetry is how long after a failed warm it is tried again.
const preparedRetry = 10 * time.Second

// hotStatements is every statement warm prepares: those of ingest.
func (c *conn) hotStatements() []string {
	return []string{
		c.jobGetSQL(),
		c.jobGetManySQL(),
		c.copyGetSQL(),
		c.executionInsertSQL(),
		jobRunUpdateSQL,
		copyWriteUpdateSQL,
	}
}

// warm prepares the hot statements on db once. It must not run inside a
// transaction of db.
func (p *preparedStmts) warm(ctx context.Context, c *conn) {
	if p.ready.Load() {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ready.Load() || p.closed || (!p.failed.IsZero() && time.Since(p.failed) < preparedRetry) {
		return
	}
	db := c.store.wdb.DB
	stmts := make(map[string]*sql.Stmt)
	for _, q := range c.hotStatements() {
		st, err := db.PrepareContext(ctx, c.rebind(q))
		if err != nil {
			for _, st := range stmts {
				_ = st.Close()
			}
			p.failed = time.Now()
			return
		}
		stmts[q] = st
	}
	p.stmts = stmts
	p.ready.Store(true)
}

// stmt returns the prepared statement of q, or nil before warm succeeded.
func (p *preparedStmts) stmt(q string) *sql.Stmt {
	if !p.ready.Load() {
		return nil
	}
	return p.stmts[q]
}

func (p *preparedStmts) close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closed = true
	// A transaction still open while the store closes must not be handed
	// closed statements: it falls back to the unprepared path.
	p.ready.Store(false)
	var errs []error
	for _, st := range p.stmts {
		errs = append(errs, st.Close())
	}
	return errors.Join(errs...)
}

// rebind turns the ? placeholders of q into PostgreSQL's $n. The
// statements here have no ? of their own.
func (c *conn) rebind(q string) string {
	if c.dialect != dialect.PG {
		return q
	}
	var b strings.Builder
	n := 0
	for i := 0; i < len(q); i++ {
		if q[i] == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(q[i])
	}
	return b.String()
}

// preparedTx returns the prepared statement of q for c's transaction, or
// nil when there is none (outside a transaction, or before warm).
func (c *conn) preparedTx(ctx context.Context, q string) *sql.Stmt {
	if c.tx == nil || c.store.prep == nil {
		return nil
	}
	st := c.store.prep.stmt(q)
	if st == nil {
		return nil
	}
	return c.tx.Tx.StmtContext(ctx, st)
}

// execPrepared runs the prepared statement st of text q with args, with
// the store's query hooks around it.
func (c *conn) execPrepared(ctx context.Context, st *sql.Stmt, q string, args ...any) (sql.Result, error) {
	defer func() { _ = st.Close() }()
	ctx, ev := c.beforeQuery(ctx, q, args)
	res, err := st.ExecContext(ctx, args...)
	c.afterQuery(ctx, ev, res, err)
	return res, err
}

// queryPrepared runs the prepared statement st of text q with args and
// scans its one row with scan; no row is sql.ErrNoRows.
func (c *conn) queryPrepared(ctx context.Context, st *sql.Stmt, q string, args []any, dest ...any) error {
	defer func() { _ = st.Close() }()
	ctx, ev := c.beforeQuery(ctx, q, args)
	err := st.QueryRowContext(ctx, args...).Scan(dest...)
	c.afterQuery(ctx, ev, nil, err)
	return err
}

// queryRowsPrepared runs the prepared statement st of text q with args and
// calls each with every row's Scan; st stays open for the caller.
func (c *conn) queryRowsPrepared(ctx context.Context, st *sql.Stmt, q string, args []any, each func(scan func(dest ...any) error) error) error {
	ctx, ev := c.beforeQuery(ctx, q, args)
	rows, err := st.QueryContext(ctx, args...)
	if err == nil {
		for rows.Next() {
			if err = each(rows.Scan); err != nil {
				break
			}
		}
		err = errors.Join(err, rows.Err(), rows.Close())
	}
	c.afterQuery(ctx, ev, nil, err)
	return err
}

// beforeQuery and afterQuery run the hooks that Store.WithQueryHook
// attached, as bun runs them for its own queries. The event carries the
// statement with its placeholders, never values formatted into it.
func (c *conn) beforeQuery(ctx context.Context, q string, args []any) (context.Context, *bun.QueryEvent) {
	if len(c.store.hooks) == 0 {
		return ctx, nil
	}
	ev := &bun.QueryEvent{DB: c.store.wdb, Query: q, QueryTemplate: q, QueryArgs: args, StartTime: time.Now()}
	for _, h := range c.store.hooks {
		ctx = h.BeforeQuery(ctx, ev)
	}
	return ctx, ev
}

func (c *conn) afterQuery(ctx context.Context, ev *bun.QueryEvent, res sql.Result, err error) {
	if ev == nil {
		return
	}
	ev.Result, ev.Err = res, err
	for i := len(c.store.hooks) - 1; i >= 0; i-- {
		c.store.hooks[i].AfterQuery(ctx, ev)
	}
}

// sqliteTimeFormat is how bun writes times on SQLite, which compares them
// as text: a statement of this file must bind them the same way.
const sqliteTimeFormat = "2006-01-02 15:04:05.999999-07:00"

// timeArg is t as a statement argument.
func (c *conn) timeArg(t time.Time) any {
	if c.dialect == dialect.SQLite {
		return t.UTC().Format(sqliteTimeFormat)
	}
	return t.UTC()
}

func (c *conn) timePtrArg(t *time.Time) any {
	if t == nil || t.IsZero() {
		return nil
	}
	return c.timeArg(*t)
}

// nullStr is s as an argument of a column that stores "" as NULL.
func nullStr(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// timeDest scans a time column: a time.Time from PostgreSQL and MySQL, the
// text bun wrote on SQLite (or a time, when the driver parsed it).
type timeDest struct {
	t     *time.Time
	valid bool
}

// scanTime returns a destination that fills t; NULL leaves it zero.
func scanTime(t *time.Time) *timeDest { return &timeDest{t: t} }

func (d *timeDest) Scan(v any) error {
	switch x := v.(type) {
	case nil:
		*d.t, d.valid = time.Time{}, false
		return nil
	case time.Time:
		*d.t = x.UTC()
	case string:
		t, err := parseStoredTime(x)
		if err != nil {
			return err
		}
		*d.t = t
	case []byte:
		t, err := parseStoredTime(string(x))
		if err != nil {
			return err
		}
		*d.t = t
	default:
		return errors.New("bunstore: cannot scan a time from this column")
	}
	d.valid = true
	return nil
}

// ptr returns the scanned time, nil for NULL or zero.
func (d *timeDest) ptr() *time.Time {
	if !d.valid || d.t.IsZero() {
		return nil
	}
	t := *d.t
	return &t
}

var storedTimeFormats = []string{
	sqliteTimeFormat,
	"2006-01-02 15:04:05.999999999-07:00",
	time.RFC3339Nano,
	"2006-01-02 15:04:05.999999999",
	"2006-01-02 15:04:05.999999999 -0700 MST",
}

func parseStoredTime(s string) (time.Time, error) {
	var err error
	for _, f := range storedTimeFormats {
		var t time.Time
		if t, err = time.Parse(f, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, err
}
