package bunstore

import (
	"cmp"
	"context"
	"errors"
	"slices"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/feature"

	"github.com/custos-dev/custos/store"
)

type executionRow struct {
	bun.BaseModel `bun:"table:executions"`

	ID         string     `bun:"id,pk"`
	JobID      string     `bun:"job_id"`
	CopyID     string     `bun:"copy_id,nullzero"`
	RunID      string     `bun:"run_id"`
	Status     string     `bun:"status"`
	StartedAt  time.Time  `bun:"started_at"`
	FinishedAt *time.Time `bun:"finished_at"`
	SizeBytes  int64      `bun:"size_bytes"`
	Files      int64      `bun:"files"`
	Errors     int64      `bun:"errors"`
	Message    string     `bun:"message"`
	Source     string     `bun:"source"`
	SnapshotID string     `bun:"snapshot_id"`
	LogExcerpt string     `bun:"log_excerpt"`
	APIKeyID   string     `bun:"api_key_id,nullzero"`
	CreatedAt  time.Time  `bun:"created_at"`
}

func executionToRow(e *store.Execution) *executionRow {
	return &executionRow{
		ID:         e.ID,
		JobID:      e.JobID,
		CopyID:     strVal(e.CopyID),
		RunID:      e.RunID,
		Status:     string(e.Status),
		StartedAt:  e.StartedAt,
		FinishedAt: e.FinishedAt,
		SizeBytes:  e.SizeBytes,
		Files:      e.Files,
		Errors:     e.Errors,
		Message:    e.Message,
		Source:     string(e.Source),
		SnapshotID: e.SnapshotID,
		LogExcerpt: e.LogExcerpt,
		APIKeyID:   strVal(e.APIKeyID),
		CreatedAt:  e.CreatedAt,
	}
}

func (r *executionRow) toStore() store.Execution {
	return store.Execution{
		ID:         r.ID,
		JobID:      r.JobID,
		CopyID:     strPtr(r.CopyID),
		RunID:      r.RunID,
		Status:     store.ExecutionStatus(r.Status),
		StartedAt:  utc(r.StartedAt),
		FinishedAt: utcPtr(r.FinishedAt),
		SizeBytes:  r.SizeBytes,
		Files:      r.Files,
		Errors:     r.Errors,
		Message:    r.Message,
		Source:     store.ExecutionSource(r.Source),
		SnapshotID: r.SnapshotID,
		LogExcerpt: r.LogExcerpt,
		APIKeyID:   strPtr(r.APIKeyID),
		CreatedAt:  utc(r.CreatedAt),
	}
}

var executionKeyset = keyset[executionRow]{
	keys:   []sortKey{{"started_at", keyTime}, {"id", keyString}},
	desc:   true,
	values: func(r *executionRow) []any { return []any{r.StartedAt, r.ID} },
}

type executionRepo struct{ *conn }

var _ store.ExecutionStore = executionRepo{}

// prepare validates e and puts it in stored form: ID, times, bounded text.
func (r executionRepo) prepare(e *store.Execution, now time.Time) error {
	if err := e.Validate(); err != nil {
		return err
	}
	if e.ID == "" {
		e.ID = r.newID()
	}
	e.StartedAt = store.NormalizeTime(e.StartedAt)
	e.FinishedAt = normPtr(e.FinishedAt)
	e.CreatedAt = store.NormalizeTime(cmpTime(e.CreatedAt, now))
	e.Message = store.TruncateText(e.Message, store.MaxMessageLen)
	e.LogExcerpt = store.TruncateTextTail(e.LogExcerpt, store.MaxLogExcerptLen)
	return nil
}

func (r executionRepo) Insert(ctx context.Context, e *store.Execution) (bool, error) {
	if err := r.prepare(e, r.stamp()); err != nil {
		return false, err
	}
	row := executionToRow(e)
	if r.feats.Has(feature.InsertOnConflict) {
		// PostgreSQL and SQLite: a repeated run is not an error, so a
		// surrounding transaction stays usable.
		res, err := r.insert(row).On("CONFLICT (job_id, run_id) DO NOTHING").Exec(ctx)
		if err != nil {
			return false, mapErr(err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return false, mapErr(err)
		} else if n == 1 {
			return true, nil
		}
	} else {
		// MySQL: a duplicate key fails the statement only, not the
		// transaction.
		_, err := r.insert(row).Exec(ctx)
		if err == nil {
			return true, nil
		}
		if err = mapErr(err); !isRunIDConflict(err) {
			return false, err
		}
	}
	existing, err := r.getByRunID(ctx, e.JobID, e.RunID, true)
	if err != nil {
		return false, err
	}
	*e = *existing
	return false, nil
}

func isRunIDConflict(err error) bool {
	var ce *store.ConstraintError
	return errors.As(err, &ce) && ce.Err == store.ErrConflict && ce.Table == "executions" && ce.Field == "run_id"
}

// One INSERT statement holds at most batchChunk rows and about
// batchChunkBytes of SQL: MariaDB refuses statements over its
// max_allowed_packet (16 MiB by default), and long log excerpts get there
// well before 500 rows.
const (
	batchChunk      = 500
	batchChunkBytes = 4 << 20
)

// chunkEnd returns the end of the chunk of es that starts at start.
func chunkEnd(es []*store.Execution, start int) int {
	size := 0
	for i := start; i < len(es); i++ {
		e := es[i]
		size += 400 + len(e.JobID) + len(e.RunID) + len(e.Message) + len(e.LogExcerpt) + len(e.SnapshotID)
		if i > start && (i-start >= batchChunk || size > batchChunkBytes) {
			return i
		}
	}
	return len(es)
}

func (r executionRepo) InsertBatch(ctx context.Context, es []*store.Execution) ([]bool, error) {
	created := make([]bool, len(es))
	if len(es) == 0 {
		return created, nil
	}
	now := r.stamp()
	for i, e := range es {
		if err := r.prepare(e, now); err != nil {
			var ve *store.ValidationError
			if errors.As(err, &ve) {
				fields := make(map[string]string, len(ve.Fields))
				for k, v := range ve.Fields {
					fields["items["+itoa(i)+"]."+k] = v
				}
				return nil, &store.ValidationError{Fields: fields}
			}
			return nil, err
		}
	}
	// Rows go in key order, so concurrent batches lock keys in the same
	// order; MySQL may still abort one to break a deadlock, and the batch,
	// idempotent by construction, then runs again.
	order := make([]int, len(es))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int {
		return cmp.Or(cmp.Compare(es[a].JobID, es[b].JobID), cmp.Compare(es[a].RunID, es[b].RunID))
	})
	sorted := make([]*store.Execution, len(es))
	for i, k := range order {
		sorted[i] = es[k]
	}
	done := make([]bool, len(es))
	var err error
	for attempt := 0; attempt < batchAttempts; attempt++ {
		clear(done)
		err = r.inWriteTx(ctx, func(c *conn) error {
			tx := executionRepo{c}
			for start := 0; start < len(sorted); {
				end := chunkEnd(sorted, start)
				if err := tx.insertChunk(ctx, sorted[start:end], done[start:end]); err != nil {
					return err
				}
				start = end
			}
			return nil
		})
		if r.tx != nil || !errors.Is(err, store.ErrRetry) {
			break
		}
	}
	if err != nil {
		return nil, err
	}
	for i, k := range order {
		created[k] = done[i]
	}
	return created, nil
}

// batchAttempts bounds the runs of a batch that the database keeps aborting.
const batchAttempts = 5

type runKey struct{ job, run string }

func (r executionRepo) insertChunk(ctx context.Context, es []*store.Execution, created []bool) error {
	// Repeats within the batch are not inserted. Runs already stored are
	// skipped by ON CONFLICT DO NOTHING where the database has it, and only
	// looked up when the insert reports fewer rows than it was given; MySQL
	// has no such clause, so there they are looked up first.
	existing := make(map[runKey]store.Execution)
	onConflict := r.feats.Has(feature.InsertOnConflict)
	if !onConflict {
		var err error
		if existing, err = r.findRuns(ctx, es); err != nil {
			return err
		}
	}
	first := make(map[runKey]int, len(es))
	var rows []*executionRow
	var fresh []int
	for i, e := range es {
		k := runKey{e.JobID, e.RunID}
		if _, ok := existing[k]; ok {
			continue
		}
		if _, ok := first[k]; ok {
			continue
		}
		first[k] = i
		rows = append(rows, executionToRow(e))
		fresh = append(fresh, i)
	}
	if len(rows) > 0 {
		q := r.insert(&rows)
		if onConflict {
			q = q.On("CONFLICT (job_id, run_id) DO NOTHING")
		}
		res, err := q.Exec(ctx)
		switch {
		case err == nil:
			n, err := res.RowsAffected()
			if err != nil {
				return mapErr(err)
			}
			if int(n) == len(rows) {
				for _, i := range fresh {
					created[i] = true
				}
			} else if err := r.settleRace(ctx, es, fresh, created, existing); err != nil {
				return err
			}
		case isRunIDConflict(mapErr(err)):
			// MySQL, racing another writer: insert one by one.
			for _, i := range fresh {
				ok, err := r.Insert(ctx, es[i])
				if err != nil {
					return err
				}
				created[i] = ok
				if !ok {
					existing[runKey{es[i].JobID, es[i].RunID}] = *es[i]
				}
			}
		default:
			return mapErr(err)
		}
	}
	for i, e := range es {
		if created[i] {
			continue
		}
		k := runKey{e.JobID, e.RunID}
		if x, ok := existing[k]; ok {
			*e = x
		} else if j, ok := first[k]; ok && j != i {
			*e = *es[j]
		}
	}
	return nil
}

// settleRace finds out which rows of an INSERT … DO NOTHING landed when
// another writer stored some of the same runs meanwhile.
func (r executionRepo) settleRace(ctx context.Context, es []*store.Execution, fresh []int, created []bool, existing map[runKey]store.Execution) error {
	sub := make([]*store.Execution, len(fresh))
	for j, i := range fresh {
		sub[j] = es[i]
	}
	stored, err := r.findRuns(ctx, sub)
	if err != nil {
		return err
	}
	for _, i := range fresh {
		k := runKey{es[i].JobID, es[i].RunID}
		x := stored[k]
		if x.ID == es[i].ID {
			created[i] = true
		} else {
			existing[k] = x
		}
	}
	return nil
}

// findRuns loads the stored executions matching the (job, run) pairs of es.
// The condition is one (job_id = ? AND run_id IN (…)) per job, so every
// database looks up exactly the pairs through the unique index; two
// independent IN lists would make MySQL scan their cross product.
func (r executionRepo) findRuns(ctx context.Context, es []*store.Execution) (map[runKey]store.Execution, error) {
	runsByJob := make(map[string][]string)
	var jobs []string
	for _, e := range es {
		if _, ok := runsByJob[e.JobID]; !ok {
			jobs = append(jobs, e.JobID)
		}
		runsByJob[e.JobID] = append(runsByJob[e.JobID], e.RunID)
	}
	q := r.r.NewSelect().WhereGroup(" AND ", func(q *bun.SelectQuery) *bun.SelectQuery {
		for _, j := range jobs {
			q = q.WhereOr("job_id = ? AND run_id IN (?)", j, bun.List(runsByJob[j]))
		}
		return q
	})
	// No row locks: on MySQL they would take gap locks on the missing pairs
	// and deadlock concurrent batches. A run stored meanwhile is caught by
	// the insert itself.
	found, err := getAll(ctx, q, (*executionRow).toStore)
	if err != nil {
		return nil, err
	}
	out := make(map[runKey]store.Execution, len(found))
	for _, e := range found {
		out[runKey{e.JobID, e.RunID}] = e
	}
	return out, nil
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b [20]byte
	i := len(b)
	for n > 0 {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	return string(b[i:])
}

func (r executionRepo) Get(ctx context.Context, id string) (*store.Execution, error) {
	return getOneBy(ctx, r.conn, "id", id, (*executionRow).toStore)
}

func (r executionRepo) GetByRunID(ctx context.Context, jobID, runID string) (*store.Execution, error) {
	return r.getByRunID(ctx, jobID, runID, false)
}

// getByRunID reads a run. With latest it also finds a run another
// transaction committed after this one's MySQL REPEATABLE READ snapshot was
// taken, by reading outside the transaction when the snapshot misses it; a
// locking read would do that too, but on a key the failed insert already
// holds shared it deadlocks concurrent repeats.
func (r executionRepo) getByRunID(ctx context.Context, jobID, runID string, latest bool) (*store.Execution, error) {
	q := func(db bun.IDB) *bun.SelectQuery {
		return db.NewSelect().Where("job_id = ?", jobID).Where("run_id = ?", runID)
	}
	e, err := getOne(ctx, q(r.r), (*executionRow).toStore)
	if latest && r.tx != nil && errors.Is(err, store.ErrNotFound) {
		e, err = getOne(ctx, q(r.store.rdb), (*executionRow).toStore)
	}
	return e, err
}

func (r executionRepo) Finish(ctx context.Context, e *store.Execution) error {
	if e.Status == store.ExecutionRunning {
		return &store.ValidationError{Fields: map[string]string{"status": "must be an outcome, not running"}}
	}
	if e.FinishedAt == nil {
		return &store.ValidationError{Fields: map[string]string{"finished_at": "required"}}
	}
	// The start is the stored one; the update checks the order against it.
	check := *e
	check.StartedAt = *e.FinishedAt
	if err := r.prepare(&check, r.stamp()); err != nil {
		return err
	}
	e.FinishedAt, e.Message, e.LogExcerpt = check.FinishedAt, check.Message, check.LogExcerpt
	row := executionToRow(e)
	res, err := r.w.NewUpdate().Model(row).
		Column("status", "finished_at", "size_bytes", "files", "errors", "message", "snapshot_id", "log_excerpt", "copy_id").
		WherePK().
		Where("status = ?", store.ExecutionRunning).
		Where("started_at <= ?", *e.FinishedAt).
		Exec(ctx)
	if err != nil {
		return mapErr(err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return mapErr(err)
	}
	stored, err := r.getLatest(ctx, e.ID)
	if err != nil {
		return err
	}
	switch {
	case n == 1:
		*e = *stored
		return nil
	case stored.Status != store.ExecutionRunning:
		return &store.ConstraintError{Err: store.ErrConflict, Table: "executions", Field: "status"}
	default:
		return &store.ValidationError{Fields: map[string]string{"finished_at": "must not be before started_at"}}
	}
}

func (r executionRepo) getLatest(ctx context.Context, id string) (*store.Execution, error) {
	var row executionRow
	if err := r.w.NewSelect().Model(&row).Where("id = ?", id).Scan(ctx); err != nil {
		return nil, mapErr(err)
	}
	e := row.toStore()
	return &e, nil
}

func (r executionRepo) List(ctx context.Context, p store.ListExecutionsParams) (*store.Page[store.Execution], error) {
	q := r.r.NewSelect().Model((*executionRow)(nil))
	if p.JobID != "" {
		q = q.Where("job_id = ?", p.JobID)
	}
	if p.Status != "" {
		q = q.Where("status = ?", p.Status)
	}
	if p.Source != "" {
		q = q.Where("source = ?", p.Source)
	}
	q = timeRange(q, "started_at", p.Started)
	return listPage(ctx, q, executionKeyset, p.PageParams, (*executionRow).toStore)
}

func (r executionRepo) CountByStatus(ctx context.Context, jobID string, tr store.TimeRange) (map[store.ExecutionStatus]int64, error) {
	var rows []struct {
		Status string `bun:"status"`
		N      int64  `bun:"n"`
	}
	q := r.r.NewSelect().TableExpr("executions").ColumnExpr("status, count(*) AS n").GroupExpr("status")
	if jobID != "" {
		q = q.Where("job_id = ?", jobID)
	}
	q = timeRange(q, "started_at", tr)
	if err := q.Scan(ctx, &rows); err != nil {
		return nil, mapErr(err)
	}
	out := make(map[store.ExecutionStatus]int64, len(rows))
	for _, row := range rows {
		out[store.ExecutionStatus(row.Status)] = row.N
	}
	return out, nil
}

func (r executionRepo) SumSizeBytes(ctx context.Context, tr store.TimeRange) (int64, error) {
	var sum int64
	q := r.r.NewSelect().TableExpr("executions").ColumnExpr("COALESCE(SUM(size_bytes), 0)")
	q = timeRange(q, "started_at", tr)
	if err := q.Scan(ctx, &sum); err != nil {
		return 0, mapErr(err)
	}
	return sum, nil
}

func (r executionRepo) DeleteBefore(ctx context.Context, t time.Time) (int64, error) {
	return countAffected(r.w.NewDelete().TableExpr("executions").
		Where("started_at < ?", store.NormalizeTime(t)).
		Where("status <> ?", store.ExecutionRunning).
		Exec(ctx))
}
