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
	// nil and roll back when it returns an error or panics. Calling InTx on
	// the Repos passed to fn runs the inner fn in the same transaction.
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

	// InTx: see Store.InTx.
	InTx(ctx context.Context, fn func(ctx context.Context, tx Repos) error) error
}

// TimeRange bounds a list by a time column: From inclusive, To exclusive;
// a zero bound is open.
type TimeRange struct {
	From time.Time
	To   time.Time
}
