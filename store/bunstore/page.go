package bunstore

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect"

	"github.com/custos-dev/custos/store"
)

// keyKind says how a sort key travels in a cursor.
type keyKind int

const (
	keyString keyKind = iota
	keyTime
	keyInt
)

// sortKey is one column of a list's order. The last key of every order is
// unique (the primary key), so the order is total and a cursor names one
// position exactly.
type sortKey struct {
	col  string
	kind keyKind
}

// keyset describes the order of one list: its keys, their direction, and
// how to read the key values off a row.
type keyset[R any] struct {
	keys   []sortKey
	desc   bool
	values func(r *R) []any
}

// apply adds the cursor condition, the order and limit+1 to q. It returns
// the page size.
func (k keyset[R]) apply(q *bun.SelectQuery, p store.PageParams, rowValues bool) (*bun.SelectQuery, int, error) {
	if err := p.Validate(); err != nil {
		return nil, 0, err
	}
	limit := p.PageLimit()
	if p.Cursor != "" {
		raw, err := store.DecodeCursor(p.Cursor, len(k.keys))
		if err != nil {
			return nil, 0, err
		}
		vals := make([]any, len(raw))
		for i, s := range raw {
			v, err := k.keys[i].parse(s)
			if err != nil {
				return nil, 0, err
			}
			vals[i] = v
		}
		op := ">"
		if k.desc {
			op = "<"
		}
		if rowValues {
			// PostgreSQL turns a row comparison into an index condition;
			// spelled out, it would filter rows from the start of the index.
			cols := make([]bun.Ident, len(k.keys))
			for i, key := range k.keys {
				cols[i] = bun.Ident(key.col)
			}
			q = q.Where(fmt.Sprintf("(?) %s (?)", op), bun.List(cols), bun.List(vals))
		} else {
			q = k.expanded(q, op, vals)
		}
	}
	dir := " ASC"
	if k.desc {
		dir = " DESC"
	}
	for _, key := range k.keys {
		q = q.OrderExpr("?"+dir, bun.Ident(key.col))
	}
	return q.Limit(int64(limit + 1)), limit, nil
}

// expanded spells (a, b, c) > (x, y, z) out as
// a > x OR (a = x AND b > y) OR …, which MySQL and SQLite plan as index
// ranges.
func (k keyset[R]) expanded(q *bun.SelectQuery, op string, vals []any) *bun.SelectQuery {
	return q.WhereGroup(" AND ", func(q *bun.SelectQuery) *bun.SelectQuery {
		for i := range k.keys {
			q = q.WhereGroup(" OR ", func(q *bun.SelectQuery) *bun.SelectQuery {
				for j := range i {
					q = q.Where("? = ?", bun.Ident(k.keys[j].col), vals[j])
				}
				return q.Where(fmt.Sprintf("? %s ?", op), bun.Ident(k.keys[i].col), vals[i])
			})
		}
		return q
	})
}

// page trims rows fetched with apply to the page size and makes the cursor.
func (k keyset[R]) page(rows []R, limit int) ([]R, string) {
	if len(rows) <= limit {
		return rows, ""
	}
	rows = rows[:limit]
	vals := k.values(&rows[limit-1])
	raw := make([]string, len(vals))
	for i, v := range vals {
		raw[i] = formatKey(v)
	}
	return rows, store.EncodeCursor(raw...)
}

func (s sortKey) parse(v string) (any, error) {
	bad := &store.ValidationError{Fields: map[string]string{"cursor": "invalid cursor"}}
	switch s.kind {
	case keyTime:
		t, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			return nil, bad
		}
		return t.UTC(), nil
	case keyInt:
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return nil, bad
		}
		return n, nil
	}
	return v, nil
}

func formatKey(v any) string {
	switch v := v.(type) {
	case time.Time:
		return v.UTC().Format(time.RFC3339Nano)
	case *time.Time:
		if v == nil {
			return ""
		}
		return v.UTC().Format(time.RFC3339Nano)
	case int64:
		return strconv.FormatInt(v, 10)
	case int:
		return strconv.Itoa(v)
	case string:
		return v
	}
	panic(fmt.Sprintf("bunstore: unsupported sort key type %T", v))
}

// listPage runs a keyset-paginated select (built on Model((*R)(nil))) and
// converts the rows with conv.
func listPage[R, T any](ctx context.Context, q *bun.SelectQuery, k keyset[R], p store.PageParams, conv func(*R) T) (*store.Page[T], error) {
	q, limit, err := k.apply(q, p, q.Dialect().Name() == dialect.PG)
	if err != nil {
		return nil, err
	}
	var rows []R
	if err := q.Scan(ctx, &rows); err != nil {
		return nil, mapErr(err)
	}
	rows, next := k.page(rows, limit)
	out := &store.Page[T]{Items: make([]T, len(rows)), NextCursor: next}
	for i := range rows {
		out.Items[i] = conv(&rows[i])
	}
	return out, nil
}
