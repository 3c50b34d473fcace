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
	// Limit is the most successes returned, at least 1.
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
// the successes finds them, in one narrow query.
type SuccessSampler interface {
	RecentSuccesses(ctx context.Context, p RecentSuccessesParams) ([]SuccessSample, error)
}
