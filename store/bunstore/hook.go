package bunstore

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/uptrace/bun"
)

// QueryCounter is a bun query hook that counts SQL statements, so that tests
// can hold an operation to its query budget. Attach it with
// Store.WithQueryHook. Transaction control (BEGIN, COMMIT, ROLLBACK) is not
// counted: it is not a query a budget is about.
//
// Counts are global to the hook; a context made with WithQueryCount also
// counts the statements run with it, which isolates one operation among
// parallel tests.
type QueryCounter struct {
	total atomic.Int64
	mu    sync.Mutex
	byOp  map[string]int64
}

var _ bun.QueryHook = (*QueryCounter)(nil)

// BeforeQuery implements bun.QueryHook.
func (c *QueryCounter) BeforeQuery(ctx context.Context, _ *bun.QueryEvent) context.Context {
	return ctx
}

// AfterQuery implements bun.QueryHook.
func (c *QueryCounter) AfterQuery(ctx context.Context, e *bun.QueryEvent) {
	op := operation(e)
	switch op {
	case "BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE":
		return
	}
	c.total.Add(1)
	c.mu.Lock()
	if c.byOp == nil {
		c.byOp = make(map[string]int64)
	}
	c.byOp[op]++
	c.mu.Unlock()
	if n, ok := ctx.Value(queryCountKey{}).(*atomic.Int64); ok {
		n.Add(1)
	}
}

// Count returns the number of statements seen since the last Reset.
func (c *QueryCounter) Count() int64 { return c.total.Load() }

// CountOf returns the number of statements of one operation ("SELECT",
// "INSERT", …) since the last Reset.
func (c *QueryCounter) CountOf(op string) int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.byOp[op]
}

// Reset sets the counts to zero.
func (c *QueryCounter) Reset() {
	c.total.Store(0)
	c.mu.Lock()
	c.byOp = nil
	c.mu.Unlock()
}

type queryCountKey struct{}

// WithQueryCount returns a context under which every statement seen by a
// QueryCounter also increments the returned counter.
func WithQueryCount(ctx context.Context) (context.Context, *atomic.Int64) {
	n := new(atomic.Int64)
	return context.WithValue(ctx, queryCountKey{}, n), n
}

func operation(e *bun.QueryEvent) string {
	if e.IQuery != nil {
		return e.IQuery.Operation()
	}
	q := strings.TrimSpace(e.Query)
	if i := strings.IndexAny(q, " \n\t("); i > 0 {
		q = q[:i]
	}
	return strings.ToUpper(q)
}
