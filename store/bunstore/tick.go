package bunstore

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/feature"

	"github.com/custos-dev/custos/store"
)

// The batch capabilities of store/tick.go: one statement per tickChunk
// rows where the required methods take one per row. Every SQLite
// statement is parsed from its text (values included), so the per-row
// statements of a tick cost far more than the few long ones here.

var (
	_ store.JobDueLister             = jobRepo{}
	_ store.JobLocker                = jobRepo{}
	_ store.JobDueUpdater            = jobRepo{}
	_ store.AlertUnresolvedGetter    = alertRepo{}
	_ store.AlertBatchCreator        = alertRepo{}
	_ store.AlertSeenUpdater         = alertRepo{}
	_ store.NotificationBatchCreator = notificationRepo{}
)

// tickChunk is how many rows one statement of a batch method handles.
const tickChunk = 100

// sendableKeys returns the keys that can match a row, sorted and without
// repeats: empty keys and keys with a NUL character (which could not be
// sent as SQL text) match nothing.
func sendableKeys(keys []string) []string {
	out := make([]string, 0, len(keys))
	for _, k := range keys {
		if k != "" && strings.IndexByte(k, 0) < 0 {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// getManyLocked reads the rows of R whose col is one of keys, ordered by
// col, tickChunk keys to a query; inside a transaction it locks them.
func getManyLocked[R, T any](ctx context.Context, c *conn, col string, keys []string, conv func(*R) T) ([]T, error) {
	keys = sendableKeys(keys)
	var out []T
	for chunk := range slices.Chunk(keys, tickChunk) {
		q := c.forUpdate(c.r.NewSelect().
			Where("? IN (?)", bun.Ident(col), bun.List(chunk)).
			OrderExpr("? ASC", bun.Ident(col)))
		rows, err := getAll(ctx, q, conv)
		if err != nil {
			return nil, err
		}
		out = append(out, rows...)
	}
	return out, nil
}

// caseColumn is a column that updateByID sets to a value per row.
type caseColumn struct {
	name string
	val  func(i int) any
}

// updateByID sets cols of the rows of table with ids (and updated_at to
// stamp) in one statement: col = CASE id WHEN … THEN … ELSE col END. The
// ELSE, never taken, gives the CASE the column's type, so PostgreSQL types
// the value literals as it does in a plain SET.
func (c *conn) updateByID(ctx context.Context, table string, ids []string, cols []caseColumn, stamp time.Time) error {
	var b strings.Builder
	args := make([]any, 0, 2*len(ids)*len(cols)+2)
	b.WriteString("UPDATE ? SET ")
	args = append(args, bun.Ident(table))
	for k, col := range cols {
		if k > 0 {
			b.WriteString(", ")
		}
		b.WriteString("? = CASE id")
		args = append(args, bun.Ident(col.name))
		for i, id := range ids {
			b.WriteString(" WHEN ? THEN ?")
			args = append(args, id, col.val(i))
		}
		b.WriteString(" ELSE ? END")
		args = append(args, bun.Ident(col.name))
	}
	b.WriteString(", updated_at = ? WHERE id IN (?)")
	args = append(args, stamp, bun.List(ids))
	_, err := c.w.NewRaw(b.String(), args...).Exec(ctx)
	return mapErr(err)
}

// bulkUpdate reports whether the database takes bun's bulk update:
// WITH _data AS (VALUES …) UPDATE t SET … FROM _data WHERE t.id = _data.id
// (SQLite, PostgreSQL), which finds each row through the key where a CASE
// compares it with every id; MySQL/MariaDB (multi-table UPDATE, VALUES in
// a CTE only on some versions) get the CASE.
func (c *conn) bulkUpdate() bool {
	return c.feats.Has(feature.CTE|feature.WithValues) && !c.feats.Has(feature.UpdateMultiTable)
}

// timeArg is an optional time as a statement argument: NULL or the time.
func timeArg(t *time.Time) any {
	if t == nil {
		return nil
	}
	return *t
}

// itemsErr prefixes the fields of a validation error of item i with
// items[i], as InsertBatch does.
func itemsErr(i int, err error) error {
	var ve *store.ValidationError
	if !errors.As(err, &ve) {
		return err
	}
	fields := make(map[string]string, len(ve.Fields))
	for k, v := range ve.Fields {
		fields["items["+itoa(i)+"]."+k] = v
	}
	return &store.ValidationError{Fields: fields}
}

// jobDueRow is the part of a job row that UpdateDue writes.
type jobDueRow struct {
	bun.BaseModel `bun:"table:jobs"`

	ID                  string     `bun:"id,pk"`
	State               string     `bun:"state"`
	NextDueAt           *time.Time `bun:"next_due_at"`
	LastResult          string     `bun:"last_result"`
	ConsecutiveFailures int        `bun:"consecutive_failures"`
	UpdatedAt           time.Time  `bun:"updated_at"`
}

// alertSeenRow is the part of an alert row that UpdateSeen writes.
type alertSeenRow struct {
	bun.BaseModel `bun:"table:alerts"`

	ID             string     `bun:"id,pk"`
	Severity       string     `bun:"severity"`
	Title          string     `bun:"title"`
	Message        string     `bun:"message"`
	Occurrences    int        `bun:"occurrences"`
	LastSeenAt     time.Time  `bun:"last_seen_at"`
	LastNotifiedAt *time.Time `bun:"last_notified_at"`
	UpdatedAt      time.Time  `bun:"updated_at"`
}

// ListDueIDs implements store.JobDueLister with the query of ListDue,
// reading only the id column.
func (r jobRepo) ListDueIDs(ctx context.Context, now time.Time, limit int) ([]string, error) {
	if limit <= 0 {
		limit = store.LimitDefault
	}
	var ids []string
	err := r.r.NewSelect().TableExpr("jobs").Column("id").
		Where("active = ?", true).
		Where("next_due_at <= ?", store.NormalizeTime(now)).
		Where("paused = ?", false).
		OrderExpr("next_due_at ASC, id ASC").
		Limit(int64(limit)).
		Scan(ctx, &ids)
	return ids, mapErr(err)
}

// GetManyForUpdate implements store.JobLocker: one SELECT … WHERE id IN
// (…) ORDER BY id FOR UPDATE per tickChunk jobs, so concurrent callers lock
// in the same order.
func (r jobRepo) GetManyForUpdate(ctx context.Context, ids []string) ([]store.Job, error) {
	return getManyLocked(ctx, r.conn, "id", ids, (*jobRow).toStore)
}

// UpdateDue implements store.JobDueUpdater with one UPDATE per tickChunk
// jobs.
func (r jobRepo) UpdateDue(ctx context.Context, us []store.JobDueUpdate) error {
	if len(us) == 0 {
		return nil
	}
	stamp := r.stamp()
	return r.inWriteTx(ctx, func(c *conn) error {
		for chunk := range slices.Chunk(us, tickChunk) {
			if c.bulkUpdate() {
				rows := make([]jobDueRow, len(chunk))
				for i, u := range chunk {
					rows[i] = jobDueRow{
						ID: u.ID, State: string(u.State), NextDueAt: normPtr(u.NextDueAt), LastResult: string(u.LastResult),
						ConsecutiveFailures: u.ConsecutiveFailures, UpdatedAt: stamp,
					}
				}
				if _, err := c.w.NewUpdate().Model(&rows).Bulk().Exec(ctx); err != nil {
					return mapErr(err)
				}
				continue
			}
			ids := make([]string, len(chunk))
			for i := range chunk {
				ids[i] = chunk[i].ID
			}
			err := c.updateByID(ctx, "jobs", ids, []caseColumn{
				{"state", func(i int) any { return string(chunk[i].State) }},
				{"next_due_at", func(i int) any { return timeArg(normPtr(chunk[i].NextDueAt)) }},
				{"last_result", func(i int) any { return string(chunk[i].LastResult) }},
				{"consecutive_failures", func(i int) any { return chunk[i].ConsecutiveFailures }},
			}, stamp)
			if err != nil {
				return err
			}
		}
		return nil
	})
}

// GetUnresolvedMany implements store.AlertUnresolvedGetter through the
// unique index of open_dedupe_key.
func (r alertRepo) GetUnresolvedMany(ctx context.Context, dedupeKeys []string) ([]store.Alert, error) {
	return getManyLocked(ctx, r.conn, "open_dedupe_key", dedupeKeys, (*alertRow).toStore)
}

// CreateMany implements store.AlertBatchCreator with one multi-row INSERT
// per tickChunk alerts.
func (r alertRepo) CreateMany(ctx context.Context, as []*store.Alert) error {
	if len(as) == 0 {
		return nil
	}
	stamp := r.stamp()
	rows := make([]*alertRow, len(as))
	for i, a := range as {
		if err := a.Validate(); err != nil {
			return itemsErr(i, err)
		}
	}
	for i, a := range as {
		if a.ID == "" {
			a.ID = r.newID()
		}
		normAlert(a)
		a.CreatedAt = store.NormalizeTime(cmpTime(a.CreatedAt, stamp))
		a.UpdatedAt = a.CreatedAt
		rows[i] = alertToRow(a)
	}
	return insertChunks(ctx, r.conn, rows)
}

// UpdateSeen implements store.AlertSeenUpdater with one UPDATE per
// tickChunk alerts.
func (r alertRepo) UpdateSeen(ctx context.Context, as []*store.Alert) error {
	if len(as) == 0 {
		return nil
	}
	for i, a := range as {
		if err := a.Validate(); err != nil {
			return itemsErr(i, err)
		}
	}
	stamp := r.stamp()
	for _, a := range as {
		normAlert(a)
		a.UpdatedAt = stamp
	}
	return r.inWriteTx(ctx, func(c *conn) error {
		for chunk := range slices.Chunk(as, tickChunk) {
			if c.bulkUpdate() {
				rows := make([]alertSeenRow, len(chunk))
				for i, a := range chunk {
					rows[i] = alertSeenRow{
						ID: a.ID, Severity: string(a.Severity), Title: a.Title, Message: a.Message,
						Occurrences: a.Occurrences, LastSeenAt: a.LastSeenAt, LastNotifiedAt: a.LastNotifiedAt,
						UpdatedAt: stamp,
					}
				}
				if _, err := c.w.NewUpdate().Model(&rows).Bulk().Exec(ctx); err != nil {
					return mapErr(err)
				}
				continue
			}
			ids := make([]string, len(chunk))
			for i := range chunk {
				ids[i] = chunk[i].ID
			}
			err := c.updateByID(ctx, "alerts", ids, []caseColumn{
				{"severity", func(i int) any { return string(chunk[i].Severity) }},
				{"title", func(i int) any { return chunk[i].Title }},
				{"message", func(i int) any { return chunk[i].Message }},
				{"occurrences", func(i int) any { return chunk[i].Occurrences }},
				{"last_seen_at", func(i int) any { return chunk[i].LastSeenAt }},
				{"last_notified_at", func(i int) any { return timeArg(chunk[i].LastNotifiedAt) }},
			}, stamp)
			if err != nil {
				return err
			}
		}
		return nil
	})
}

// CreateMany implements store.NotificationBatchCreator with one multi-row
// INSERT per tickChunk rows.
func (r notificationRepo) CreateMany(ctx context.Context, ns []*store.Notification) error {
	if len(ns) == 0 {
		return nil
	}
	for i, n := range ns {
		if err := n.Validate(); err != nil {
			return itemsErr(i, err)
		}
	}
	stamp := r.stamp()
	rows := make([]*notificationRow, len(ns))
	for i, n := range ns {
		if n.ID == "" {
			n.ID = r.newID()
		}
		normNotification(n)
		n.CreatedAt = store.NormalizeTime(cmpTime(n.CreatedAt, stamp))
		n.UpdatedAt = n.CreatedAt
		rows[i] = notificationToRow(n)
	}
	return insertChunks(ctx, r.conn, rows)
}

// insertChunks inserts rows tickChunk at a time in one write transaction:
// all of them or none.
func insertChunks[R any](ctx context.Context, c *conn, rows []*R) error {
	return c.inWriteTx(ctx, func(c *conn) error {
		for chunk := range slices.Chunk(rows, tickChunk) {
			if _, err := c.insert(&chunk).Exec(ctx); err != nil {
				return mapErr(err)
			}
		}
		return nil
	})
}
