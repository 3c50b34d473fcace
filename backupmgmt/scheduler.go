package backupmgmt

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/custos-dev/custos/store"
)

// Scheduler runs the dead-man's switch (DESIGN §4.1): ticks that find
// deadlines that passed without a run, and runs that take too long. A
// caller (refserver's loop, an embedder's cron) calls the ticks
// periodically; they are safe to run from several processes at once.
type Scheduler Service

// Scheduler gives the scheduler ticks.
func (s *Service) Scheduler() *Scheduler { return (*Scheduler)(s) }

const (
	// schedulerBatch is how many due jobs one query of TickMissed reads.
	schedulerBatch = 500
	// SchedulerMaxMissesPerTick bounds the missed executions one tick
	// records for one job. A job that missed more deadlines (its server was
	// down for days) gets this many, and its deadline jumps to the first one
	// after now.
	SchedulerMaxMissesPerTick = 10
)

// schedulerMissedRunPrefix starts the run_id of a missed execution; the
// rest is the missed expected start, so every process that notices the
// same miss records the same run and the store keeps one.
const schedulerMissedRunPrefix = "missed-"

// TickMissed handles every active, unpaused job whose deadline (NextDueAt)
// has passed: it records a missed execution (source scheduler) per missed
// deadline, moves the job to missed, counts the misses as consecutive
// failures, raises or repeats its backup_missed alert, and advances the
// deadline. Each job is handled in its own transaction, after re-reading
// it under lock, so a job resumed, paused or run meanwhile is left alone.
// The work is proportional to the due jobs: they are found through the
// deadline index, in batches. It reports how many missed executions it
// recorded. Missed runs are not audited: they are system records.
//
// A job that cannot be handled (its stored schedule no longer parses, say)
// is logged and skipped, and the tick goes on; the error returned then
// names the first such job.
func (sc *Scheduler) TickMissed(ctx context.Context) (int, error) {
	s := (*Service)(sc)
	now := s.Now()
	recorded := 0
	failed := make(map[string]bool)
	var firstErr error
	for {
		// Jobs that failed stay due, so the batch grows past them.
		due, err := s.store.Jobs().ListDue(ctx, now, schedulerBatch+len(failed))
		if err != nil {
			return recorded, fmt.Errorf("backupmgmt: list due jobs: %w", err)
		}
		progressed := false
		for i := range due {
			if failed[due[i].ID] {
				continue
			}
			progressed = true
			n, err := sc.miss(ctx, due[i].ID, now)
			recorded += n
			if err != nil {
				if ctx.Err() != nil {
					return recorded, err
				}
				s.log.ErrorContext(ctx, "missed-run check failed", "job_id", due[i].ID, "error", err)
				failed[due[i].ID] = true
				if firstErr == nil {
					firstErr = fmt.Errorf("backupmgmt: missed runs of job %s: %w", due[i].ID, err)
				}
			}
		}
		if !progressed || len(due) < schedulerBatch+len(failed) {
			break
		}
	}
	return recorded, firstErr
}

// miss handles one due job in its own transaction and returns how many
// missed executions it recorded.
func (sc *Scheduler) miss(ctx context.Context, jobID string, now time.Time) (int, error) {
	s := (*Service)(sc)
	recorded := 0
	err := s.inTx(ctx, func(ctx context.Context, tx store.Repos) error {
		recorded = 0
		j, err := tx.Jobs().Get(ctx, jobID)
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		if !j.Active || j.Paused || j.NextDueAt == nil || j.NextDueAt.After(now) {
			return nil
		}
		if j.Schedule.Kind == store.ScheduleManual {
			// A manual job expects no run, whatever deadline it was given.
			j.NextDueAt = nil
			return tx.Jobs().Update(ctx, j)
		}
		deadline := j.NextDueAt
		var last *store.Execution
		for misses := 0; deadline != nil && !deadline.After(now); misses++ {
			if misses == SchedulerMaxMissesPerTick {
				// The rest is skipped: wait for the first deadline to come.
				if deadline, err = NextDue(j.Schedule, j.Grace, now.Add(-j.Grace)); err != nil {
					return err
				}
				break
			}
			expected := deadline.Add(-j.Grace)
			e, created, err := sc.recordMiss(ctx, tx, j, expected, *deadline)
			if err != nil {
				return err
			}
			if created {
				recorded++
				last = e
				if err := sc.raiseMissed(ctx, tx, j, expected, *deadline); err != nil {
					return err
				}
			}
			if deadline, err = NextDue(j.Schedule, j.Grace, expected); err != nil {
				return err
			}
		}
		j.NextDueAt = deadline
		if last != nil {
			j.State = store.JobStateMissed
			j.LastResult = store.ExecutionMissed
			j.ConsecutiveFailures += recorded
		}
		return tx.Jobs().Update(ctx, j)
	})
	if err != nil {
		return 0, err
	}
	return recorded, nil
}

// recordMiss stores the missed execution of one deadline; created is false
// when it was recorded before (by another process, or before the schedule
// moved the deadline back to it).
func (sc *Scheduler) recordMiss(ctx context.Context, tx store.Repos, j *store.Job, expected, deadline time.Time) (*store.Execution, bool, error) {
	s := (*Service)(sc)
	finished := deadline
	e := &store.Execution{
		ID:         s.cfg.NewID(),
		JobID:      j.ID,
		RunID:      schedulerMissedRunPrefix + expected.UTC().Format(time.RFC3339),
		Status:     store.ExecutionMissed,
		StartedAt:  expected,
		FinishedAt: &finished,
		Message:    fmt.Sprintf("no run started by %s (expected at %s)", schedulerTime(deadline), schedulerTime(expected)),
		Source:     store.SourceScheduler,
		CreatedAt:  s.Now(),
	}
	created, err := tx.Executions().Insert(ctx, e)
	if err != nil {
		return nil, false, fmt.Errorf("backupmgmt: record missed run: %w", err)
	}
	return e, created, nil
}

// raiseMissed opens the job's backup_missed alert, or counts one more
// occurrence of it.
func (sc *Scheduler) raiseMissed(ctx context.Context, tx store.Repos, j *store.Job, expected, deadline time.Time) error {
	s := (*Service)(sc)
	id := j.ID
	_, _, err := s.raiseAlert(ctx, tx, alertSpec{
		Type:     store.AlertBackupMissed,
		Severity: store.SeverityError,
		Subject:  jobSubject(j.ID),
		JobID:    &id,
		Title:    fmt.Sprintf("backup `%s` missed its run expected at %s", j.Name, schedulerTime(expected)),
		Message: fmt.Sprintf("job `%s` was expected to run at %s and has not reported by %s (grace %s)",
			j.Name, schedulerTime(expected), schedulerTime(deadline), j.Grace),
	})
	return err
}

// schedulerTime is the form times take in scheduler messages.
func schedulerTime(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// TickStuck raises backup_stuck for every running execution of a job with a
// maximum runtime that started longer ago than that. It reads the running
// executions page by page (through the status index) and their jobs in one
// query per page, so its work is proportional to the runs in progress. An
// execution already counted by the job's unresolved alert is not counted
// again. It reports how many executions it raised or repeated an alert for.
// Ingest resolves the alert when the run finishes.
func (sc *Scheduler) TickStuck(ctx context.Context) (int, error) {
	s := (*Service)(sc)
	now := s.Now()
	raised := 0
	p := store.ListExecutionsParams{Status: store.ExecutionRunning}
	p.Limit = store.LimitMax
	for {
		page, err := s.store.Executions().List(ctx, p)
		if err != nil {
			return raised, fmt.Errorf("backupmgmt: list running executions: %w", err)
		}
		ids := make([]string, 0, len(page.Items))
		seen := make(map[string]bool, len(page.Items))
		for _, e := range page.Items {
			if !seen[e.JobID] {
				seen[e.JobID] = true
				ids = append(ids, e.JobID)
			}
		}
		jobs, err := s.store.Jobs().GetMany(ctx, ids)
		if err != nil {
			return raised, fmt.Errorf("backupmgmt: jobs of running executions: %w", err)
		}
		byID := make(map[string]*store.Job, len(jobs))
		for i := range jobs {
			byID[jobs[i].ID] = &jobs[i]
		}
		for i := range page.Items {
			e := &page.Items[i]
			j := byID[e.JobID]
			if j == nil || j.MaxRuntime <= 0 {
				continue
			}
			stuckAt := e.StartedAt.Add(j.MaxRuntime)
			if !stuckAt.Before(now) {
				continue
			}
			ok, err := sc.raiseStuck(ctx, j, e, stuckAt)
			if err != nil {
				return raised, err
			}
			if ok {
				raised++
			}
		}
		if page.NextCursor == "" {
			return raised, nil
		}
		p.Cursor = page.NextCursor
	}
}

// raiseStuck raises backup_stuck for a run unless the job's unresolved
// alert was seen after the run got stuck, which means it counts this run.
func (sc *Scheduler) raiseStuck(ctx context.Context, j *store.Job, e *store.Execution, stuckAt time.Time) (bool, error) {
	s := (*Service)(sc)
	raised := false
	err := s.inTx(ctx, func(ctx context.Context, tx store.Repos) error {
		raised = false
		a, err := tx.Alerts().GetUnresolved(ctx, AlertKey(store.AlertBackupStuck, jobSubject(j.ID)))
		switch {
		case err == nil && !a.LastSeenAt.Before(stuckAt):
			return nil
		case err != nil && !errors.Is(err, store.ErrNotFound):
			return err
		}
		id := j.ID
		_, _, err = s.raiseAlert(ctx, tx, alertSpec{
			Type:     store.AlertBackupStuck,
			Severity: store.SeverityWarning,
			Subject:  jobSubject(j.ID),
			JobID:    &id,
			Title:    fmt.Sprintf("backup `%s` has been running longer than %s", j.Name, j.MaxRuntime),
			Message: fmt.Sprintf("run %s of job `%s` started at %s and has not finished; the limit is %s",
				e.RunID, j.Name, schedulerTime(e.StartedAt), j.MaxRuntime),
		})
		raised = err == nil
		return err
	})
	return raised, err
}
