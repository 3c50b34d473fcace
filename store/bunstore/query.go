package bunstore

import (
	"context"

	"github.com/uptrace/bun"
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
