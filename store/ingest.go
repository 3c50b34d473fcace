package store

import (
	"context"
	"time"
)

// Optional capabilities of a Repos for recording runs, which happens for
// every backup run and so is the hottest write path. Each does what the
// general methods it names would, in fewer or cheaper statements. Callers
// find them by type assertion on the Repos (inside a transaction, on the
// transaction's) and fall back to the general methods; decorators should
// forward them.

// RecentSuccessesParams selects the recent successes of a job.
type RecentSuccessesParams struct {
	JobID string
	// Before bounds the runs: only those started before it count.
	Before time.Time
	// Scan is how many of the job's latest runs started before Before are
	// looked at (1 to LimitMax); successes beyond them are not returned.
	Scan int
	// Limit is the most successes returned, 1 to LimitMax.
	Limit int
}

// SuccessSample is one success as a comparison with recent runs reads it.
type SuccessSample struct {
	// Rank is the run's place among the runs scanned, newest start first,
	// from 0 (ties by ID, as ExecutionStore.List orders them).
	Rank      int
	StartedAt time.Time
	SizeBytes int64
	// Duration is from start to finish; 0 when the run has no finish.
	Duration time.Duration
}

// SuccessSampler is an optional capability of a Repos: the successes among
// a job's latest Scan runs started before Before, newest first, at most
// Limit, the way paging ExecutionStore.List of the job by start and keeping
// the successes finds them, reading only the columns it returns.
type SuccessSampler interface {
	RecentSuccesses(ctx context.Context, p RecentSuccessesParams) ([]SuccessSample, error)
}

// RunRecorder is an optional capability of a Repos inside a transaction:
// the single-row reads and writes of recording a run, as statements
// prepared once instead of SQL text built for every call. Outside a
// transaction it may simply run the general methods.
type RunRecorder interface {
	// GetJobForRun is JobStore.Get: inside a transaction it locks the row.
	GetJobForRun(ctx context.Context, id string) (*Job, error)
	// GetJobsForRun is JobLocker.GetManyForUpdate: the jobs with the given
	// IDs, ordered by ID, IDs that match none left out; inside a
	// transaction it locks them.
	GetJobsForRun(ctx context.Context, ids []string) ([]Job, error)
	// GetCopyForRun is CopyStore.Get: inside a transaction it locks the row.
	GetCopyForRun(ctx context.Context, id string) (*Copy, error)
	// InsertRun is ExecutionStore.Insert.
	InsertRun(ctx context.Context, e *Execution) (bool, error)
	// UpdateJobRun is JobStore.Update of a job of which only the run state
	// changed since it was read: it writes State, NextDueAt, LastRunAt,
	// LastSuccessAt, LastResult, ConsecutiveFailures and UpdatedAt, and
	// validates j as Update does.
	UpdateJobRun(ctx context.Context, j *Job) error
	// UpdateCopyWrite is CopyStore.Update of a copy of which only the last
	// write changed since it was read: it writes LastWrittenAt,
	// LastSizeBytes, Status and UpdatedAt, and validates c as Update does.
	UpdateCopyWrite(ctx context.Context, c *Copy) error
}
