package store

import (
	"context"
	"time"
)

// The interfaces below are optional capabilities of the per-aggregate
// stores that let a background tick handle many rows with one statement
// where the required methods take one per row. Callers find them by type
// assertion on the store a Repos returns (tx.Jobs().(store.JobLocker)) and
// fall back to the required methods; decorators should forward them.

// JobDueLister lists the due jobs by ID.
type JobDueLister interface {
	// ListDueIDs returns the IDs of the jobs ListDue returns, in its order:
	// a caller that reads them again under lock needs no more.
	ListDueIDs(ctx context.Context, now time.Time, limit int) ([]string, error)
}

// JobLocker reads many jobs at once.
type JobLocker interface {
	// GetManyForUpdate returns the jobs with the given IDs, ordered by ID;
	// IDs that match no job are left out. Inside a transaction it locks the
	// rows it returns until the transaction ends, as Get does.
	GetManyForUpdate(ctx context.Context, ids []string) ([]Job, error)
}

// JobDueUpdate is the state a deadline check leaves a job in.
type JobDueUpdate struct {
	ID                  string
	State               JobState
	NextDueAt           *time.Time
	LastResult          ExecutionStatus
	ConsecutiveFailures int
}

// JobDueUpdater writes the deadline state of many jobs at once.
type JobDueUpdater interface {
	// UpdateDue writes State, NextDueAt, LastResult and
	// ConsecutiveFailures of every job of us and stamps UpdatedAt, the rest
	// of each job as stored; for a job read under lock, the same row as
	// Update with those fields changed. IDs that match no job are ignored.
	UpdateDue(ctx context.Context, us []JobDueUpdate) error
}

// AlertUnresolvedGetter finds many unresolved alerts at once.
type AlertUnresolvedGetter interface {
	// GetUnresolvedMany returns the unresolved alerts with the given dedupe
	// keys (at most one per key), ordered by key; keys without one are left
	// out. Inside a transaction it locks what it returns, as GetUnresolved.
	GetUnresolvedMany(ctx context.Context, dedupeKeys []string) ([]Alert, error)
}

// AlertBatchCreator stores many alerts at once.
type AlertBatchCreator interface {
	// CreateMany stores every alert of as, as Create would each, or none:
	// ErrConflict when one of them has the dedupe key of an unresolved
	// alert (stored, or earlier in as). Inside a transaction a failed call
	// must be undone with a savepoint (see Store.InTx), as for Create.
	CreateMany(ctx context.Context, as []*Alert) error
}

// AlertSeenUpdater writes the repeat of many alerts at once.
type AlertSeenUpdater interface {
	// UpdateSeen writes Severity, Title, Message, Occurrences, LastSeenAt
	// and LastNotifiedAt of every alert of as and stamps UpdatedAt, the rest
	// of each alert as stored; for an alert read under lock, the same row as
	// Update. Alerts that are not stored are ignored.
	UpdateSeen(ctx context.Context, as []*Alert) error
}

// NotificationBatchCreator stores many outbox rows at once.
type NotificationBatchCreator interface {
	// CreateMany stores every row of ns, as Create would each, or none.
	CreateMany(ctx context.Context, ns []*Notification) error
}
