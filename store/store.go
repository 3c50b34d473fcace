package store

import (
	"context"
	"io"
	"time"
)

// Store is the storage of Custos: one accessor per aggregate, plus a
// transaction entry point. An adapter (store/bunstore) or a decorator
// (cache) implements it; store/storetest proves an implementation right.
type Store interface {
	Repos

	// InTx runs fn with a Repos whose writes commit together when fn returns
	// nil and roll back when it returns an error or panics.
	//
	// Calling InTx on the Repos passed to fn runs the inner fn in a savepoint
	// of the same transaction: an error from the inner fn undoes only its
	// writes, and the outer fn may go on. After any other store error inside
	// fn, return it: PostgreSQL aborts the whole transaction on an error, so
	// only a savepoint makes "try, and on ErrConflict do something else"
	// portable.
	//
	// Inside fn, use only tx: on SQLite the transaction holds the one write
	// connection, and a write through the Store would wait for it. The
	// single-row Get methods of tx lock the row they return until the
	// transaction ends (SELECT … FOR UPDATE where the database has row
	// locks), so read-modify-write is safe.
	InTx(ctx context.Context, fn func(ctx context.Context, tx Repos) error) error

	// Ping reports whether the database answers.
	Ping(ctx context.Context) error

	io.Closer
}

// Repos gives the per-aggregate stores. Inside InTx every one of them works
// in the transaction.
type Repos interface {
	Users() UserStore
	Sessions() SessionStore
	APIKeys() APIKeyStore
	Assets() AssetStore
	Jobs() JobStore
	Copies() CopyStore
	Executions() ExecutionStore
	VerificationTests() VerificationTestStore
	VerificationSchedules() VerificationScheduleStore
	Media() MediaStore
	MediaEvents() MediaEventStore
	Lendings() LendingStore
	RotationPlans() RotationPlanStore
	Compliance() ComplianceStore
	Rollups() RollupStore
	Alerts() AlertStore
	Channels() ChannelStore
	Notifications() NotificationStore
	Reports() ReportStore
	Audit() AuditStore
	Settings() SettingStore

	// InTx runs fn in a transaction, or in a savepoint of the current one;
	// see Store.InTx.
	InTx(ctx context.Context, fn func(ctx context.Context, tx Repos) error) error
}

// TimeRange bounds a list by a time column: From inclusive, To exclusive;
// a zero bound is open.
type TimeRange struct {
	From time.Time
	To   time.Time
}
