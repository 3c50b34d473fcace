package backupmgmt

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/custos-dev/custos/store"
)

// SLA computes per-job service levels over a window (DESIGN §4.7) and
// raises sla_breach alerts (DESIGN §4.6).
type SLA Service

// SLA gives the SLA operations.
func (s *Service) SLA() *SLA { return (*SLA)(s) }

// SLAMinRuns is how many runs a job needs in the window before Tick judges
// its success rate: with fewer, one failure is not a trend.
const SLAMinRuns = 5

// JobSLA is one job's service level over a window ending now.
type JobSLA struct {
	JobID string
	// Window is the length of the window; From and To (now) bound it.
	Window time.Duration
	From   time.Time
	To     time.Time
	// Runs counts the finished runs started in the window: successes,
	// warnings, failures and missed runs. Canceled runs are left out (someone
	// stopped them on purpose: neither a success nor the backup failing),
	// and so are runs still running.
	Runs int
	// Successes counts success and warning runs; Failures failed and missed
	// ones (a missed run counts as a failure); Missed and Canceled count
	// those outcomes alone.
	Successes int
	Failures  int
	Missed    int
	Canceled  int
	// SuccessRate is Successes / Runs; nil when there were no runs, so that
	// a job that never ran is neither at 0 % nor at 100 %.
	SuccessRate *float64
	// MeanDuration and MaxDuration are over the finished runs that ran:
	// successes, warnings and failures (missed runs never started).
	MeanDuration time.Duration
	MaxDuration  time.Duration
	// LastSuccessAt is when the newest successful run finished (in the
	// window or before it), or the job's LastSuccessAt when the executions
	// are gone; nil when it never succeeded. SinceLastSuccess is the time
	// from then to To, 0 when LastSuccessAt is nil.
	LastSuccessAt    *time.Time
	SinceLastSuccess time.Duration
	// RPOTarget is the job's; WithinRPO is the share of the window (0–1)
	// during which the newest restore point, the finish of the latest
	// successful run before that moment, was younger than RPOTarget. Nil
	// when the job has no RPO target.
	RPOTarget time.Duration
	WithinRPO *float64
	// Target is Config.SLATarget. Breached reports SuccessRate or WithinRPO
	// below it.
	Target   float64
	Breached bool
}

// Job computes a job's SLA over the window ending now; window 0 means
// Config.SLAWindow. It costs 2 queries, the job and its runs, with a
// store.SLAExecutionReader; without one, 4 for up to LimitMax runs in the
// window and one more per LimitMax more: the job, the runs of the window
// page by page, and the newest success and warning before it.
func (l *SLA) Job(ctx context.Context, jobID string, window time.Duration) (*JobSLA, error) {
	s := (*Service)(l)
	if window < 0 {
		return nil, &store.ValidationError{Fields: map[string]string{"window": "must not be negative"}}
	}
	job, err := s.store.Jobs().Get(ctx, jobID)
	if err != nil {
		return nil, err
	}
	return s.slaOf(ctx, job, window)
}

// slaOf computes the SLA of job over window (0: Config.SLAWindow).
func (s *Service) slaOf(ctx context.Context, job *store.Job, window time.Duration) (*JobSLA, error) {
	if window == 0 {
		window = s.cfg.SLAWindow
	}
	now := s.Now()
	out := &JobSLA{
		JobID: job.ID, Window: window, From: now.Add(-window), To: now,
		RPOTarget: job.RPOTarget, Target: s.cfg.SLATarget,
	}
	runs, before, err := s.slaExecutions(ctx, job.ID, out.From)
	if err != nil {
		return nil, fmt.Errorf("backupmgmt: sla of job %s: %w", job.ID, err)
	}
	var (
		points []time.Time // finishes of successful runs: restore points
		ran    int
		total  time.Duration
	)
	for i := range runs {
		e := &runs[i]
		switch e.Status {
		case store.ExecutionRunning:
			continue
		case store.ExecutionCanceled:
			out.Canceled++
			continue
		case store.ExecutionMissed:
			out.Runs++
			out.Failures++
			out.Missed++
			continue
		case store.ExecutionSuccess, store.ExecutionWarning:
			out.Successes++
			if e.FinishedAt != nil {
				points = append(points, *e.FinishedAt)
			}
		default:
			out.Failures++
		}
		out.Runs++
		ran++
		d := e.Duration()
		total += d
		out.MaxDuration = max(out.MaxDuration, d)
	}
	if out.Runs > 0 {
		rate := float64(out.Successes) / float64(out.Runs)
		out.SuccessRate = &rate
	}
	if ran > 0 {
		out.MeanDuration = total / time.Duration(ran)
	}
	// The restore point at the start of the window is the newest success
	// or warning before it.
	for _, e := range before {
		if e.FinishedAt != nil {
			points = append(points, *e.FinishedAt)
		}
	}
	points = slices.DeleteFunc(points, func(t time.Time) bool { return t.After(now) })
	slices.SortFunc(points, func(a, b time.Time) int { return a.Compare(b) })

	switch {
	case len(points) > 0:
		last := points[len(points)-1]
		out.LastSuccessAt = &last
	case job.LastSuccessAt != nil:
		last := *job.LastSuccessAt
		out.LastSuccessAt = &last
	}
	if out.LastSuccessAt != nil {
		out.SinceLastSuccess = max(0, now.Sub(*out.LastSuccessAt))
	}
	if job.RPOTarget > 0 {
		within := slaWithinRPO(points, job.RPOTarget, out.From, now)
		out.WithinRPO = &within
	}
	out.Breached = (out.SuccessRate != nil && *out.SuccessRate < out.Target) ||
		(out.WithinRPO != nil && *out.WithinRPO < out.Target)
	return out, nil
}

// slaExecutions returns the runs of a job started at or after from and its
// newest success and newest warning started before from, as
// store.SLAExecutionReader does: in its one statement when the store has
// it, else through List page by page and once for each status before the
// window (success and warning are separate statuses to the store). Only
// the fields of slaFields are set.
func (s *Service) slaExecutions(ctx context.Context, jobID string, from time.Time) (window, before []store.Execution, err error) {
	if r, ok := s.store.Executions().(store.SLAExecutionReader); ok {
		return r.SLAExecutions(ctx, jobID, from)
	}
	p := store.ListExecutionsParams{JobID: jobID, Started: store.TimeRange{From: from}}
	p.Limit = store.LimitMax
	for {
		page, err := s.store.Executions().List(ctx, p)
		if err != nil {
			return nil, nil, err
		}
		for _, e := range page.Items {
			window = append(window, slaFields(e))
		}
		if page.NextCursor == "" {
			break
		}
		p.Cursor = page.NextCursor
	}
	for _, st := range []store.ExecutionStatus{store.ExecutionSuccess, store.ExecutionWarning} {
		p := store.ListExecutionsParams{JobID: jobID, Status: st, Started: store.TimeRange{To: from}}
		p.Limit = 1
		page, err := s.store.Executions().List(ctx, p)
		if err != nil {
			return nil, nil, err
		}
		for _, e := range page.Items {
			before = append(before, slaFields(e))
		}
	}
	return window, before, nil
}

// slaFields is e with only the fields an SLA reads, as
// store.SLAExecutionReader sets them: a window of many runs is held in
// memory without their messages and log excerpts.
func slaFields(e store.Execution) store.Execution {
	return store.Execution{ID: e.ID, JobID: e.JobID, Status: e.Status, StartedAt: e.StartedAt, FinishedAt: e.FinishedAt}
}

// slaWithinRPO is the share of [from, to) during which the newest of the
// sorted restore points at or before each moment was younger than rpo.
// Before the first point there is no restore point: that time is outside.
func slaWithinRPO(points []time.Time, rpo time.Duration, from, to time.Time) float64 {
	if !to.After(from) {
		return 0
	}
	var young time.Duration
	for i, p := range points {
		next := to
		if i+1 < len(points) {
			next = points[i+1]
		}
		start := p
		if start.Before(from) {
			start = from
		}
		end := p.Add(rpo)
		if next.Before(end) {
			end = next
		}
		if to.Before(end) {
			end = to
		}
		if end.After(start) {
			young += end.Sub(start)
		}
	}
	return float64(young) / float64(to.Sub(from))
}

// Tick judges every active job's SLA over Config.SLAWindow: a job with at
// least SLAMinRuns runs that is Breached gets an sla_breach warning (or
// another occurrence of the open one); any other job's open sla_breach is
// resolved, and so are those of jobs no longer active or gone. It returns
// how many jobs are in breach.
//
// Its cost grows with jobs: the open sla_breach alerts and the jobs are
// read a page of LimitMax at a time, then each active job costs the query
// (or, without a store.SLAExecutionReader, 3 or more) of its SLA (see Job)
// and, when an alert changes, a transaction. That is fine for a tick that runs every few minutes or
// hours; it is not on any request path.
func (l *SLA) Tick(ctx context.Context) (int, error) {
	s := (*Service)(l)
	open, err := s.slaOpenAlerts(ctx)
	if err != nil {
		return 0, err
	}
	breached := 0
	p := store.ListJobsParams{}
	p.Limit = store.LimitMax
	for {
		page, err := s.store.Jobs().List(ctx, p)
		if err != nil {
			return breached, fmt.Errorf("backupmgmt: sla tick: list jobs: %w", err)
		}
		for i := range page.Items {
			job := &page.Items[i]
			if !job.Active {
				continue
			}
			subject := jobSubject(job.ID)
			key := AlertKey(store.AlertSLABreach, subject)
			_, wasOpen := open[key]
			delete(open, key)
			sla, err := s.slaOf(ctx, job, 0)
			if err != nil {
				return breached, err
			}
			switch {
			case sla.Runs >= SLAMinRuns && sla.Breached:
				breached++
				err = s.inTx(ctx, func(ctx context.Context, tx store.Repos) error {
					_, _, err := s.raiseAlert(ctx, tx, slaAlert(job, sla))
					return err
				})
			case wasOpen:
				err = s.inTx(ctx, func(ctx context.Context, tx store.Repos) error {
					_, err := s.resolveAlert(ctx, tx, store.AlertSLABreach, subject, store.ResolvedByAuto)
					return err
				})
			}
			if err != nil {
				return breached, err
			}
		}
		if page.NextCursor == "" {
			break
		}
		p.Cursor = page.NextCursor
	}
	for key := range open {
		subject := strings.TrimPrefix(key, string(store.AlertSLABreach)+":")
		err := s.inTx(ctx, func(ctx context.Context, tx store.Repos) error {
			_, err := s.resolveAlert(ctx, tx, store.AlertSLABreach, subject, store.ResolvedByAuto)
			return err
		})
		if err != nil {
			return breached, err
		}
	}
	return breached, nil
}

// slaOpenAlerts returns the dedupe keys of the unresolved sla_breach alerts.
func (s *Service) slaOpenAlerts(ctx context.Context) (map[string]struct{}, error) {
	out := make(map[string]struct{})
	p := store.ListAlertsParams{Type: store.AlertSLABreach, Unresolved: true}
	p.Limit = store.LimitMax
	for {
		page, err := s.store.Alerts().List(ctx, p)
		if err != nil {
			return nil, fmt.Errorf("backupmgmt: sla tick: list alerts: %w", err)
		}
		for _, a := range page.Items {
			out[a.DedupeKey] = struct{}{}
		}
		if page.NextCursor == "" {
			return out, nil
		}
		p.Cursor = page.NextCursor
	}
}

// slaAlert is the sla_breach alert of a job, its message naming the
// figures that fall short.
func slaAlert(job *store.Job, sla *JobSLA) alertSpec {
	var parts []string
	if sla.SuccessRate != nil && *sla.SuccessRate < sla.Target {
		parts = append(parts, fmt.Sprintf("success rate %.1f %% (%d of %d runs), target %.1f %%",
			*sla.SuccessRate*100, sla.Successes, sla.Runs, sla.Target*100))
	}
	if sla.WithinRPO != nil && *sla.WithinRPO < sla.Target {
		parts = append(parts, fmt.Sprintf("within RPO %s for %.1f %% of the time, target %.1f %%",
			sla.RPOTarget, *sla.WithinRPO*100, sla.Target*100))
	}
	days := int(sla.Window / (24 * time.Hour))
	return alertSpec{
		Type: store.AlertSLABreach, Severity: store.SeverityWarning, Subject: jobSubject(job.ID), JobID: &job.ID, Ongoing: true,
		Title:   "job `" + job.Name + "` is below its SLA",
		Message: fmt.Sprintf("over %d days: %s", days, strings.Join(parts, "; ")),
	}
}
