package bunstore

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/uptrace/bun/dialect"
	"github.com/uptrace/bun/dialect/feature"

	"github.com/custos-dev/custos/store"
)

var _ store.SuccessSampler = (*conn)(nil)

// RecentSuccesses implements store.SuccessSampler. It pages through the
// job's runs by start on the (job_id, started_at, id) index, reading
// narrow rows, and keeps the successes: a healthy job needs one page of
// two rows more than Limit. Filtering by status in the query would let
// SQLite pick the status index and scan every job's successes.
func (c *conn) RecentSuccesses(ctx context.Context, p store.RecentSuccessesParams) ([]store.SuccessSample, error) {
	fields := map[string]string{}
	if p.JobID == "" {
		fields["job_id"] = "required"
	}
	if p.Scan < 1 || p.Scan > store.LimitMax {
		fields["scan"] = "must be between 1 and " + itoa(store.LimitMax)
	}
	if p.Limit < 1 || p.Limit > store.LimitMax {
		fields["limit"] = "must be between 1 and " + itoa(store.LimitMax)
	}
	if len(fields) > 0 {
		return nil, &store.ValidationError{Fields: fields}
	}
	out := []store.SuccessSample{}
	if strings.IndexByte(p.JobID, 0) >= 0 {
		return out, nil
	}
	const cols = "SELECT status, started_at, finished_at, size_bytes, id FROM executions WHERE job_id = ?"
	const order = " ORDER BY started_at DESC, id DESC LIMIT ?"
	q, args := cols, []any{p.JobID}
	if !p.Before.IsZero() {
		q += " AND started_at < ?"
		args = append(args, store.NormalizeTime(p.Before))
	}
	limit := min(p.Limit+2, p.Scan)
	args = append(args, limit)
	for rank := 0; ; {
		var (
			n       int
			lastAt  time.Time
			lastID  string
			scanErr error
		)
		rows, err := c.r.QueryContext(ctx, q+order, args...)
		if err != nil {
			return nil, mapErr(err)
		}
		for rows.Next() {
			var (
				status       string
				started, fin time.Time
				size         int64
				startD, finD = scanTime(&started), scanTime(&fin)
			)
			if scanErr = rows.Scan(&status, startD, finD, &size, &lastID); scanErr != nil {
				break
			}
			lastAt = started
			n++
			if rank < p.Scan && status == string(store.ExecutionSuccess) && len(out) < p.Limit {
				x := store.SuccessSample{Rank: rank, StartedAt: started, SizeBytes: size}
				if f := finD.ptr(); f != nil {
					x.Duration = f.Sub(started)
				}
				out = append(out, x)
			}
			rank++
		}
		err = errors.Join(scanErr, rows.Err(), rows.Close())
		if err != nil {
			return nil, mapErr(err)
		}
		if len(out) >= p.Limit || n < limit || rank >= p.Scan {
			return out, nil
		}
		limit = min(4*(p.Limit-len(out))+4, p.Scan-rank)
		q = cols + " AND (started_at < ? OR (started_at = ? AND id < ?))"
		args = []any{p.JobID, lastAt, lastAt, lastID, limit}
	}
}

var _ store.RunRecorder = (*conn)(nil)

const jobColumnsSQL = "id, name, name_key, description, asset_id, job_type, tool, target_server, target_path," +
	" schedule_kind, schedule_cron, schedule_interval_seconds, schedule_timezone, grace_seconds," +
	" max_runtime_seconds, retention_days, rpo_target_seconds, rto_target_seconds, owner_id, tags," +
	" active, paused, ping_token, state, next_due_at, last_run_at, last_success_at, last_result," +
	" consecutive_failures, created_at, updated_at"

const copyColumnsSQL = "id, job_id, name, name_key, role, media_type, location, offsite, offline, immutable," +
	" immutable_until, encrypted, compressed, media_id, last_written_at, last_size_bytes, status," +
	" created_at, updated_at"

const jobRunUpdateSQL = "UPDATE jobs SET state = ?, next_due_at = ?, last_run_at = ?, last_success_at = ?," +
	" last_result = ?, consecutive_failures = ?, updated_at = ? WHERE id = ?"

const copyWriteUpdateSQL = "UPDATE copies SET last_written_at = ?, last_size_bytes = ?, status = ?, updated_at = ? WHERE id = ?"

// lockSuffix locks the row read inside a transaction, as forUpdate does;
// the statements are only used inside one.
func (c *conn) lockSuffix() string {
	if c.dialect == dialect.SQLite {
		return ""
	}
	return " FOR UPDATE"
}

func (c *conn) jobGetSQL() string {
	return "SELECT " + jobColumnsSQL + " FROM jobs WHERE id = ?" + c.lockSuffix()
}

// jobsForRunChunk is how many IDs one prepared GetJobsForRun statement
// takes; shorter lists are padded with "", which names no job.
const jobsForRunChunk = 16

func (c *conn) jobGetManySQL() string {
	return "SELECT " + jobColumnsSQL + " FROM jobs WHERE id IN (" + strings.Repeat("?, ", jobsForRunChunk-1) + "?) ORDER BY id" + c.lockSuffix()
}

func (c *conn) copyGetSQL() string {
	return "SELECT " + copyColumnsSQL + " FROM copies WHERE id = ?" + c.lockSuffix()
}

func (c *conn) executionInsertSQL() string {
	q := "INSERT INTO executions (id, job_id, copy_id, run_id, status, started_at, finished_at, size_bytes, files," +
		" errors, message, source, snapshot_id, log_excerpt, api_key_id, created_at)" +
		" VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
	if c.feats.Has(feature.InsertOnConflict) {
		q += " ON CONFLICT (job_id, run_id) DO NOTHING"
	}
	return q
}

// jobRunRow scans a row of jobColumnsSQL without bun's reflection.
type jobRunRow struct {
	r                          jobRow
	asset, owner               sql.NullString
	created, updated           time.Time
	nextDue, lastRun, lastSucc time.Time
	nextD, runD, sucD          *timeDest
}

func (x *jobRunRow) dest() []any {
	x.nextD, x.runD, x.sucD = scanTime(&x.nextDue), scanTime(&x.lastRun), scanTime(&x.lastSucc)
	r := &x.r
	return []any{&r.ID, &r.Name, &r.NameKey, &r.Description, &x.asset, &r.JobType, &r.Tool, &r.TargetServer, &r.TargetPath,
		&r.ScheduleKind, &r.ScheduleCron, &r.ScheduleIntervalSeconds, &r.ScheduleTimezone, &r.GraceSeconds,
		&r.MaxRuntimeSeconds, &r.RetentionDays, &r.RPOTargetSeconds, &r.RTOTargetSeconds, &x.owner, &r.Tags,
		&r.Active, &r.Paused, &r.PingToken, &r.State, x.nextD, x.runD, x.sucD, &r.LastResult,
		&r.ConsecutiveFailures, scanTime(&x.created), scanTime(&x.updated)}
}

func (x *jobRunRow) job() store.Job {
	r := &x.r
	r.AssetID, r.OwnerID = x.asset.String, x.owner.String
	r.NextDueAt, r.LastRunAt, r.LastSuccessAt = x.nextD.ptr(), x.runD.ptr(), x.sucD.ptr()
	r.CreatedAt, r.UpdatedAt = x.created, x.updated
	return r.toStore()
}

// GetJobForRun implements store.RunRecorder.
func (c *conn) GetJobForRun(ctx context.Context, id string) (*store.Job, error) {
	q := c.jobGetSQL()
	st := c.preparedTx(ctx, q)
	if st == nil {
		return jobRepo{c}.Get(ctx, id)
	}
	if id == "" || strings.IndexByte(id, 0) >= 0 {
		_ = st.Close()
		return nil, store.ErrNotFound
	}
	var row jobRunRow
	if err := c.queryPrepared(ctx, st, q, []any{id}, row.dest()...); err != nil {
		return nil, mapErr(err)
	}
	j := row.job()
	return &j, nil
}

// GetJobsForRun implements store.RunRecorder: one prepared statement of
// jobsForRunChunk IDs, run once per chunk.
func (c *conn) GetJobsForRun(ctx context.Context, ids []string) ([]store.Job, error) {
	q := c.jobGetManySQL()
	st := c.preparedTx(ctx, q)
	if st == nil {
		return jobRepo{c}.GetManyForUpdate(ctx, ids)
	}
	defer func() { _ = st.Close() }()
	ids = sendableKeys(ids)
	out := make([]store.Job, 0, len(ids))
	args := make([]any, jobsForRunChunk)
	for chunk := range slices.Chunk(ids, jobsForRunChunk) {
		for i := range args {
			args[i] = ""
			if i < len(chunk) {
				args[i] = chunk[i]
			}
		}
		err := c.queryRowsPrepared(ctx, st, q, args, func(scan func(dest ...any) error) error {
			var row jobRunRow
			if err := scan(row.dest()...); err != nil {
				return err
			}
			out = append(out, row.job())
			return nil
		})
		if err != nil {
			return nil, mapErr(err)
		}
	}
	return out, nil
}

// GetCopyForRun implements store.RunRecorder.
func (c *conn) GetCopyForRun(ctx context.Context, id string) (*store.Copy, error) {
	q := c.copyGetSQL()
	st := c.preparedTx(ctx, q)
	if st == nil {
		return copyRepo{c}.Get(ctx, id)
	}
	if id == "" || strings.IndexByte(id, 0) >= 0 {
		_ = st.Close()
		return nil, store.ErrNotFound
	}
	var (
		r                    copyRow
		media                sql.NullString
		created, updated     time.Time
		immutable, written   time.Time
		immutableD, writtenD = scanTime(&immutable), scanTime(&written)
	)
	err := c.queryPrepared(ctx, st, q, []any{id},
		&r.ID, &r.JobID, &r.Name, &r.NameKey, &r.Role, &r.MediaType, &r.Location, &r.Offsite, &r.Offline,
		&r.Immutable, immutableD, &r.Encrypted, &r.Compressed, &media, writtenD, &r.LastSizeBytes, &r.Status,
		scanTime(&created), scanTime(&updated))
	if err != nil {
		return nil, mapErr(err)
	}
	r.MediaID = media.String
	r.ImmutableUntil, r.LastWrittenAt = immutableD.ptr(), writtenD.ptr()
	r.CreatedAt, r.UpdatedAt = created, updated
	cp := r.toStore()
	return &cp, nil
}

// InsertRun implements store.RunRecorder.
func (c *conn) InsertRun(ctx context.Context, e *store.Execution) (bool, error) {
	q := c.executionInsertSQL()
	st := c.preparedTx(ctx, q)
	repo := executionRepo{c}
	if st == nil {
		return repo.Insert(ctx, e)
	}
	if err := repo.prepare(e, c.stamp()); err != nil {
		_ = st.Close()
		return false, err
	}
	res, err := c.execPrepared(ctx, st, q,
		e.ID, e.JobID, nullStr(strVal(e.CopyID)), e.RunID, string(e.Status), c.timeArg(e.StartedAt),
		c.timePtrArg(e.FinishedAt), e.SizeBytes, e.Files, e.Errors, e.Message, string(e.Source), e.SnapshotID,
		e.LogExcerpt, nullStr(strVal(e.APIKeyID)), c.timeArg(e.CreatedAt))
	if c.feats.Has(feature.InsertOnConflict) {
		// PostgreSQL and SQLite: a repeated run is not an error, so a
		// surrounding transaction stays usable.
		if err != nil {
			return false, mapErr(err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return false, mapErr(err)
		} else if n == 1 {
			return true, nil
		}
	} else {
		// MySQL: a duplicate key fails the statement only.
		if err == nil {
			return true, nil
		}
		if err = mapErr(err); !isRunIDConflict(err) {
			return false, err
		}
	}
	existing, err := repo.getByRunID(ctx, e.JobID, e.RunID, true)
	if err != nil {
		return false, err
	}
	*e = *existing
	return false, nil
}

// UpdateJobRun implements store.RunRecorder.
func (c *conn) UpdateJobRun(ctx context.Context, j *store.Job) error {
	st := c.preparedTx(ctx, jobRunUpdateSQL)
	if st == nil {
		return jobRepo{c}.Update(ctx, j)
	}
	if err := j.Validate(); err != nil {
		_ = st.Close()
		return err
	}
	normalizeJob(j)
	j.UpdatedAt = c.stamp()
	res, err := c.execPrepared(ctx, st, jobRunUpdateSQL,
		string(j.State), c.timePtrArg(j.NextDueAt), c.timePtrArg(j.LastRunAt), c.timePtrArg(j.LastSuccessAt),
		string(j.LastResult), j.ConsecutiveFailures, c.timeArg(j.UpdatedAt), j.ID)
	return c.affected(ctx, res, err, "jobs", "id", j.ID)
}

// UpdateCopyWrite implements store.RunRecorder.
func (c *conn) UpdateCopyWrite(ctx context.Context, cp *store.Copy) error {
	st := c.preparedTx(ctx, copyWriteUpdateSQL)
	if st == nil {
		return copyRepo{c}.Update(ctx, cp)
	}
	if err := cp.Validate(); err != nil {
		_ = st.Close()
		return err
	}
	cp.ImmutableUntil = normPtr(cp.ImmutableUntil)
	cp.LastWrittenAt = normPtr(cp.LastWrittenAt)
	cp.UpdatedAt = c.stamp()
	res, err := c.execPrepared(ctx, st, copyWriteUpdateSQL,
		c.timePtrArg(cp.LastWrittenAt), cp.LastSizeBytes, string(cp.Status), c.timeArg(cp.UpdatedAt), cp.ID)
	return c.affected(ctx, res, err, "copies", "id", cp.ID)
}
