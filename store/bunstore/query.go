package bunstore

import (
	"context"
	"database/sql"
	"strings"

	"github.com/uptrace/bun"

	"github.com/custos-dev/custos/store"
)

// getOne runs q for one row of R and converts it; no row is
// store.ErrNotFound.
func getOne[R, T any](ctx context.Context, q *bun.SelectQuery, conv func(*R) T) (*T, error) {
	var row R
	if err := q.Model(&row).Limit(1).Scan(ctx); err != nil {
		return nil, mapErr(err)
	}
	out := conv(&row)
	return &out, nil
}

// getOneBy reads the row of R whose col equals v. Inside a transaction it
// locks the row (see store.Store.InTx). A value with a NUL character
// matches nothing (and could not be sent as SQL text).
func getOneBy[R, T any](ctx context.Context, c *conn, col, v string, conv func(*R) T) (*T, error) {
	if v == "" || strings.IndexByte(v, 0) >= 0 {
		return nil, store.ErrNotFound
	}
	return getOne(ctx, c.forUpdate(c.r.NewSelect().Where("? = ?", bun.Ident(col), v)), conv)
}

// getAll runs q for rows of R and converts them.
func getAll[R, T any](ctx context.Context, q *bun.SelectQuery, conv func(*R) T) ([]T, error) {
	var rows []R
	if err := q.Model(&rows).Scan(ctx); err != nil {
		return nil, mapErr(err)
	}
	out := make([]T, len(rows))
	for i := range rows {
		out[i] = conv(&rows[i])
	}
	return out, nil
}

// getByIDs loads the rows with the given IDs in one query.
func getByIDs[R, T any](ctx context.Context, db bun.IDB, ids []string, conv func(*R) T) ([]T, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	return getAll(ctx, db.NewSelect().Where("id IN (?)", bun.List(ids)), conv)
}

// insert starts an INSERT of model. bun would add RETURNING for columns it
// writes as DEFAULT (nullzero fields); the store sets every column itself, so
// reading them back is a wasted result set.
func (c *conn) insert(model any) *bun.InsertQuery {
	return c.w.NewInsert().Model(model).Returning("NULL")
}

// countAffected returns how many rows a delete removed.
func countAffected(res sql.Result, err error) (int64, error) {
	if err != nil {
		return 0, mapErr(err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, mapErr(err)
	}
	return n, nil
}

// timeRange adds the bounds of tr on col: From inclusive, To exclusive.
func timeRange(q *bun.SelectQuery, col string, tr store.TimeRange) *bun.SelectQuery {
	if !tr.From.IsZero() {
		q = q.Where("? >= ?", bun.Ident(col), store.NormalizeTime(tr.From))
	}
	if !tr.To.IsZero() {
		q = q.Where("? < ?", bun.Ident(col), store.NormalizeTime(tr.To))
	}
	return q
}
