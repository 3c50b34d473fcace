package backupmgmt

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/custos-dev/custos/store"
)

// BackgroundIntervalDefault is how often Run ticks.
const BackgroundIntervalDefault = time.Minute

// TickReport says what one round of background work did.
type TickReport struct {
	Missed              int   // missed executions recorded
	Stuck               int   // runs found stuck
	ComplianceChanged   int   // job and asset states that changed
	VerificationOverdue int   // overdue verification schedules alerted
	LendingsOverdue     int   // overdue lendings alerted
	RotationsDue        int   // rotation plans due or overdue alerted
	SLABreaches         int   // jobs whose SLA is breached
	Repeats             int   // critical alerts notified again
	SessionsPurged      int64 // expired sessions removed
	AuditDeleted        int64 // audit events past retention removed
}

// Tick runs every time-driven duty of DESIGN §10 once, in an order where
// later duties see what earlier ones did: missed and stuck runs, the
// compliance sweep, verification due dates, overdue lendings and rotations,
// SLA, repeated notifications, daily rollups, expired sessions and audit
// retention. A failing duty does not stop the others; the error joins every
// failure.
//
// Several processes may tick the same store: each duty is idempotent (a
// missed deadline is recorded once, an alert is deduplicated), so the worst
// case is repeated work. Run spares the database that work: with several
// replicas only the holder of an advisory lock ticks.
func (s *Service) Tick(ctx context.Context) (TickReport, error) {
	var (
		r    TickReport
		errs []error
	)
	step := func(name string, fn func() error) {
		if ctx.Err() != nil {
			return
		}
		if err := fn(); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", name, err))
		}
	}
	count := func(dst *int, fn func(context.Context) (int, error)) func() error {
		return func() error {
			n, err := fn(ctx)
			*dst = n
			return err
		}
	}
	step("missed runs", count(&r.Missed, s.Scheduler().TickMissed))
	step("stuck runs", count(&r.Stuck, s.Scheduler().TickStuck))
	step("compliance sweep", func() error {
		res, err := s.Compliance().Sweep(ctx)
		r.ComplianceChanged = res.Changed
		return err
	})
	step("verification overdue", count(&r.VerificationOverdue, s.Verification().TickOverdue))
	step("lendings overdue", count(&r.LendingsOverdue, s.Media().TickLendingOverdue))
	step("rotation due", count(&r.RotationsDue, s.Rotation().TickRotation))
	step("sla", count(&r.SLABreaches, s.SLA().Tick))
	step("repeat notifications", count(&r.Repeats, s.Alerts().TickRepeat))
	step("daily rollups", func() error { return s.Rollups().Tick(ctx) })
	step("expired sessions", func() error {
		n, err := s.Auth().PurgeExpiredSessions(ctx)
		r.SessionsPurged = n
		return err
	})
	step("audit retention", func() error {
		n, err := s.Audit().ApplyRetention(ctx)
		r.AuditDeleted = n
		return err
	})
	if err := ctx.Err(); err != nil {
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		return r, fmt.Errorf("backupmgmt: tick: %w", errors.Join(errs...))
	}
	return r, nil
}

// BackgroundLockName is the advisory lock Run holds for each round of
// background work, so that of several replicas on one database only one
// does it (DESIGN §10).
const BackgroundLockName = "custos.background"

// Duty is more time-driven work for Run to do each round after Tick (a
// report digest, say), under the same lock.
type Duty func(ctx context.Context) error

// Run does a round of background work at once and then every interval
// (BackgroundIntervalDefault when interval ≤ 0) until ctx ends, and returns
// nil then. A round is Tick and then each of more, in order. When the
// store is a store.AdvisoryLocker the round runs only in the process that
// takes BackgroundLockName for it, and the others skip it; the lock is
// taken again every round, so when its holder stops another replica takes
// over at its next round. A failed round is logged and the next one runs on
// time: background work must outlive a database hiccup.
func (s *Service) Run(ctx context.Context, interval time.Duration, more ...Duty) error {
	if interval <= 0 {
		interval = BackgroundIntervalDefault
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		s.round(ctx, more)
		if ctx.Err() != nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// round does one round of Run, reporting whether it held the lock.
func (s *Service) round(ctx context.Context, more []Duty) bool {
	if l, ok := s.store.(store.AdvisoryLocker); ok {
		release, held, err := l.TryAdvisoryLock(ctx, BackgroundLockName)
		switch {
		case err != nil:
			if ctx.Err() == nil {
				s.log.ErrorContext(ctx, "background lock failed", "error", err)
			}
			return false
		case !held:
			s.log.DebugContext(ctx, "background work held by another process")
			return false
		}
		defer release()
	}
	start := time.Now()
	r, err := s.Tick(ctx)
	if ctx.Err() != nil {
		return true
	}
	if err != nil {
		s.log.ErrorContext(ctx, "background tick failed", "error", err)
	} else {
		s.log.DebugContext(ctx, "background tick", "duration", time.Since(start),
			"missed", r.Missed, "stuck", r.Stuck, "compliance_changed", r.ComplianceChanged)
	}
	for i, d := range more {
		if err := d(ctx); err != nil && ctx.Err() == nil {
			s.log.ErrorContext(ctx, "background duty failed", "duty", i, "error", err)
		}
	}
	return true
}
