package bunstore

import (
	"context"
	"strings"
	"time"

	"github.com/custos-dev/custos/store"
)

var _ store.SuccessSampler = (*conn)(nil)

// RecentSuccesses implements store.SuccessSampler. The inner query walks
// the job's (job_id, started_at) index for its latest Scan runs and numbers
// them; the outer one keeps the successes. Filtering by status inside
// would let SQLite pick the status index and scan every job's successes.
func (c *conn) RecentSuccesses(ctx context.Context, p store.RecentSuccessesParams) ([]store.SuccessSample, error) {
	fields := map[string]string{}
	if p.JobID == "" {
		fields["job_id"] = "required"
	}
	if p.Scan < 1 || p.Scan > store.LimitMax {
		fields["scan"] = "must be between 1 and " + itoa(store.LimitMax)
	}
	if p.Limit < 1 {
		fields["limit"] = "must be at least 1"
	}
	if len(fields) > 0 {
		return nil, &store.ValidationError{Fields: fields}
	}
	if strings.IndexByte(p.JobID, 0) >= 0 {
		return nil, nil
	}
	where, args := "job_id = ?", []any{p.JobID}
	if !p.Before.IsZero() {
		where += " AND started_at < ?"
		args = append(args, store.NormalizeTime(p.Before))
	}
	args = append(args, p.Scan, store.ExecutionSuccess, p.Limit)
	var rows []struct {
		Rank       int        `bun:"rn"`
		StartedAt  time.Time  `bun:"started_at"`
		FinishedAt *time.Time `bun:"finished_at"`
		SizeBytes  int64      `bun:"size_bytes"`
	}
	err := c.r.NewRaw("SELECT r.rn, r.started_at, r.finished_at, r.size_bytes FROM ("+
		"SELECT ROW_NUMBER() OVER (ORDER BY started_at DESC, id DESC) - 1 AS rn, status, started_at, finished_at, size_bytes"+
		" FROM executions WHERE "+where+" ORDER BY started_at DESC, id DESC LIMIT ?) r"+
		" WHERE r.status = ? ORDER BY r.rn LIMIT ?", args...).Scan(ctx, &rows)
	if err != nil {
		return nil, mapErr(err)
	}
	out := make([]store.SuccessSample, len(rows))
	for i, r := range rows {
		out[i] = store.SuccessSample{Rank: r.Rank, StartedAt: utc(r.StartedAt), SizeBytes: r.SizeBytes}
		if f := utcPtr(r.FinishedAt); f != nil {
			out[i].Duration = f.Sub(out[i].StartedAt)
		}
	}
	return out, nil
}
