package store

import (
	"context"
	"time"
)

// DashboardCountsParams bound the time-dependent parts of DashboardCounts.
type DashboardCountsParams struct {
	// Since is the start of the execution counts: executions started at or
	// after it. Zero counts every execution.
	Since time.Time
	// Today is the day before which an active verification schedule is
	// overdue.
	Today Date
	// DueSoonBy is the last day on which an active verification schedule
	// that is not overdue counts as due soon (inclusive). Before Today
	// (or zero), none is due soon.
	DueSoonBy Date
}

// DashboardCounts is every count a dashboard shows, read together. Maps
// hold only the keys some row has.
type DashboardCounts struct {
	// Jobs counts every job per state; paused jobs count under
	// JobStatePaused whatever their state (as JobStore.CountByState).
	Jobs map[JobState]int
	// JobCompliance and AssetCompliance count the latest states per status.
	JobCompliance   map[ComplianceStatus]int
	AssetCompliance map[ComplianceStatus]int
	// Executions counts the executions started at or after Since, per
	// status.
	Executions map[ExecutionStatus]int64
	// Alerts counts the open and acknowledged alerts per state and
	// severity (as AlertStore.CountUnresolved).
	Alerts map[AlertState]map[Severity]int
	// VerificationOverdue counts active schedules due before Today;
	// VerificationDueSoon those due from Today to DueSoonBy.
	VerificationOverdue int
	VerificationDueSoon int
	// Media counts offline media per status.
	Media map[MediaStatus]int
}

// DashboardCounter is an optional capability of a Store: all the counts of
// a dashboard in one statement, where the per-aggregate count methods would
// take one each. Callers find it by type assertion and fall back to those
// methods; decorators should forward it.
type DashboardCounter interface {
	DashboardCounts(ctx context.Context, p DashboardCountsParams) (*DashboardCounts, error)
}
