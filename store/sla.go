package store

import (
	"context"
	"time"
)

// SLAExecutionReader is an optional capability of an ExecutionStore: what a
// job's service level over a window is computed from, in one statement,
// where List takes one per LimitMax runs of the window and one for each of
// the newest success and the newest warning before it. Callers find it by
// type assertion on the store a Repos returns
// (repos.Executions().(store.SLAExecutionReader)) and fall back to List;
// decorators should forward it.
type SLAExecutionReader interface {
	// SLAExecutions returns the executions of the job started at or after
	// from (window), whatever their status, and the newest success and the
	// newest warning started before it (before: at most one of each, as List
	// with that Status, Started.To from and Limit 1 returns them). Both are
	// newest start first, ties broken by ID as List does. Only ID, JobID,
	// Status, StartedAt and FinishedAt are set; the other fields are zero.
	// A job without executions, or an unknown one, has none: no error.
	SLAExecutions(ctx context.Context, jobID string, from time.Time) (window, before []Execution, err error)
}
