package bunstore

import (
	"context"
	"time"

	"github.com/custos-dev/custos/store"
)

var _ store.SLAExecutionReader = executionRepo{}

// slaExecutionsSQL is the window of a job's runs through the (job_id,
// started_at, id) index, and the newest success and the newest warning
// before it, each the first row of its status on a walk of that index
// backwards from the window's start. The LIMIT parts are derived tables
// because SQLite takes no ORDER BY or LIMIT on a member of a compound
// select; part is 1 for the rows before the window.
const slaExecutionsSQL = `SELECT 0 AS part, id, job_id, status, started_at, finished_at
 FROM executions WHERE job_id = ? AND started_at >= ?
UNION ALL
SELECT 1, id, job_id, status, started_at, finished_at FROM (
 SELECT id, job_id, status, started_at, finished_at FROM executions
 WHERE job_id = ? AND status = ? AND started_at < ? ORDER BY started_at DESC, id DESC LIMIT 1) AS s
UNION ALL
SELECT 1, id, job_id, status, started_at, finished_at FROM (
 SELECT id, job_id, status, started_at, finished_at FROM executions
 WHERE job_id = ? AND status = ? AND started_at < ? ORDER BY started_at DESC, id DESC LIMIT 1) AS w
ORDER BY started_at DESC, id DESC`

// slaExecutionRow is a row of slaExecutionsSQL.
type slaExecutionRow struct {
	Part       int        `bun:"part"`
	ID         string     `bun:"id"`
	JobID      string     `bun:"job_id"`
	Status     string     `bun:"status"`
	StartedAt  time.Time  `bun:"started_at"`
	FinishedAt *time.Time `bun:"finished_at"`
}

// SLAExecutions implements store.SLAExecutionReader in one statement.
func (r executionRepo) SLAExecutions(ctx context.Context, jobID string, from time.Time) (window, before []store.Execution, err error) {
	from = store.NormalizeTime(from)
	var rows []slaExecutionRow
	err = r.r.NewRaw(slaExecutionsSQL,
		jobID, from,
		jobID, store.ExecutionSuccess, from,
		jobID, store.ExecutionWarning, from,
	).Scan(ctx, &rows)
	if err != nil {
		return nil, nil, mapErr(err)
	}
	for i := range rows {
		row := &rows[i]
		e := store.Execution{
			ID:         row.ID,
			JobID:      row.JobID,
			Status:     store.ExecutionStatus(row.Status),
			StartedAt:  utc(row.StartedAt),
			FinishedAt: utcPtr(row.FinishedAt),
		}
		if row.Part == 1 {
			before = append(before, e)
		} else {
			window = append(window, e)
		}
	}
	return window, before, nil
}
