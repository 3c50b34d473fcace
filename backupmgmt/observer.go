package backupmgmt

import (
	"context"
	"time"

	"github.com/custos-dev/custos/store"
)

// Observer is told what the service did once it committed, for metrics
// (observe.Metrics implements it). Its methods are called on the
// request's goroutine: they must be fast and must not block.
type Observer interface {
	// ExecutionRecorded is a run's outcome: a run recorded finished, a
	// start completed, or a missed run the scheduler recorded (duration
	// and size zero). Starts are not outcomes and are not reported.
	ExecutionRecorded(job string, status string, duration time.Duration, sizeBytes int64)
	// AlertRaised is an alert opened (not a repeat of an open one).
	AlertRaised(severity, alertType string)
	// VerificationRecorded is a restore test recorded.
	VerificationRecorded(result string, duration time.Duration)
}

type nopObserver struct{}

func (nopObserver) ExecutionRecorded(string, string, time.Duration, int64) {}
func (nopObserver) AlertRaised(string, string)                             {}
func (nopObserver) VerificationRecorded(string, time.Duration)             {}

// observeRun reports the outcome e of job once the transaction of ctx
// commits.
func (s *Service) observeRun(ctx context.Context, job *store.Job, e *store.Execution) {
	if e.Status == store.ExecutionRunning {
		return
	}
	name, status, d, size := job.Name, string(e.Status), e.Duration(), e.SizeBytes
	afterCommit(ctx, func() { s.cfg.Observer.ExecutionRecorded(name, status, d, size) })
}

// observeAlert reports an opened alert once the transaction of ctx
// commits.
func (s *Service) observeAlert(ctx context.Context, a *store.Alert) {
	sev, typ := string(a.Severity), string(a.Type)
	afterCommit(ctx, func() { s.cfg.Observer.AlertRaised(sev, typ) })
}
