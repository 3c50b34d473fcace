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
// deadline. Jobs are re-read under lock in the transaction that handles
// them, so a job resumed, paused or run meanwhile is left alone, and two
// processes ticking at once record each miss once. The work is
// proportional to the due jobs: they are found through the deadline index,
// in batches, and with the store's batch capabilities (store/tick.go) a
// transaction takes the same few statements however many of its jobs are
// due: the jobs read under lock, the runs inserted, their alerts looked up,
// opened or repeated, their outbox rows and the jobs' new state each in
// one. It reports how many missed executions it recorded. Missed runs are
// not audited: they are system records.
//
// Due jobs are handled up to 100 to a transaction, which keeps commits
// (each a synced write on PostgreSQL and MariaDB) few; when such a
// transaction fails, its jobs are handled again one per transaction, so one
// bad job (its stored schedule no longer parses, say) is logged and skipped
// while the others go on. The error returned then names the first such
// job.
func (sc *Scheduler) TickMissed(ctx context.Context) (int, error) {
	s := (*Service)(sc)
	now := s.Now()
	recorded := 0
	failed := make(map[string]bool)
	var firstErr error
	for {
		// Jobs that failed stay due, so the batch grows past them.
		limit := schedulerBatch + len(failed)
		due, err := listDue(ctx, s.store, now, limit)
		if err != nil {
			return recorded, fmt.Errorf("backupmgmt: list due jobs: %w", err)
		}
		ids := make([]string, 0, len(due))
		for _, id := range due {
			if !failed[id] {
				ids = append(ids, id)
			}
		}
		for len(ids) > 0 {
			chunk := ids[:min(len(ids), schedulerTxJobs)]
			ids = ids[len(chunk):]
			n, err := sc.miss(ctx, chunk, now)
			if err == nil {
				recorded += n
				continue
			}
			if ctx.Err() != nil {
				return recorded, err
			}
			for _, id := range chunk {
				n, err := sc.miss(ctx, []string{id}, now)
				recorded += n
				if err == nil {
					continue
				}
				if ctx.Err() != nil {
					return recorded, err
				}
				s.log.ErrorContext(ctx, "missed-run check failed", "job_id", id, "error", err)
				failed[id] = true
				if firstErr == nil {
					firstErr = fmt.Errorf("backupmgmt: missed runs of job %s: %w", id, err)
				}
			}
		}
		if len(due) < limit {
			return recorded, firstErr
		}
	}
}

// listDue returns the IDs of the due jobs (store.JobStore.ListDue); the
// tick reads the jobs again under lock. With store.JobDueLister it reads
// only the IDs.
func listDue(ctx context.Context, s store.Repos, now time.Time, limit int) ([]string, error) {
	if l, ok := s.Jobs().(store.JobDueLister); ok {
		return l.ListDueIDs(ctx, now, limit)
	}
	due, err := s.Jobs().ListDue(ctx, now, limit)
	if err != nil {
		return nil, err
	}
	ids := make([]string, len(due))
	for i := range due {
		ids[i] = due[i].ID
	}
	return ids, nil
}

// schedulerTxJobs is how many due jobs one transaction of TickMissed
// handles: enough to make commits rare, few enough that ingest never
// waits long for the jobs (or, on SQLite, the database) it holds.
const schedulerTxJobs = 100

// schedulerMiss is what the tick does to one due job.
type schedulerMiss struct {
	job   *store.Job
	next  *time.Time
	runs  []*store.Execution // one per missed deadline
	first int                // index of runs[0] in the chunk's batch
}

// miss handles the due jobs ids, in order, in one transaction and returns
// how many missed executions it recorded.
func (sc *Scheduler) miss(ctx context.Context, ids []string, now time.Time) (int, error) {
	s := (*Service)(sc)
	recorded := 0
	err := s.inTx(ctx, func(ctx context.Context, tx store.Repos) error {
		recorded = 0
		jobs, err := lockJobs(ctx, tx, ids)
		if err != nil {
			return err
		}
		var (
			plans []schedulerMiss
			batch []*store.Execution
		)
		for _, j := range jobs {
			if !j.Active || j.Paused || j.NextDueAt == nil || j.NextDueAt.After(now) {
				continue
			}
			plan, err := sc.plan(j, now)
			if err != nil {
				return fmt.Errorf("job %s: %w", j.ID, err)
			}
			plan.first = len(batch)
			batch = append(batch, plan.runs...)
			plans = append(plans, plan)
		}
		created, err := tx.Executions().InsertBatch(ctx, batch)
		if err != nil {
			return fmt.Errorf("backupmgmt: record missed runs: %w", err)
		}
		var specs []alertSpec
		for _, plan := range plans {
			j := plan.job
			misses := 0
			for i, e := range plan.runs {
				if !created[plan.first+i] {
					// Recorded before: by another process, or before the
					// schedule moved the deadline back to it.
					continue
				}
				misses++
				specs = append(specs, missedSpec(j, e.StartedAt, *e.FinishedAt))
				name := j.Name
				afterCommit(ctx, func() { s.cfg.Observer.ExecutionRecorded(name, string(store.ExecutionMissed), 0, 0) })
			}
			j.NextDueAt = plan.next
			if misses > 0 {
				j.State = store.JobStateMissed
				j.LastResult = store.ExecutionMissed
				j.ConsecutiveFailures += misses
				recorded += misses
			}
		}
		if err := s.raiseAlerts(ctx, tx, specs); err != nil {
			return err
		}
		return updateDue(ctx, tx, plans)
	})
	if err != nil {
		return 0, err
	}
	return recorded, nil
}

// lockJobs reads the jobs ids under lock, in the order of ids; unknown ones
// are left out. With store.JobLocker it takes one statement.
func lockJobs(ctx context.Context, tx store.Repos, ids []string) ([]*store.Job, error) {
	out := make([]*store.Job, 0, len(ids))
	if l, ok := tx.Jobs().(store.JobLocker); ok {
		jobs, err := l.GetManyForUpdate(ctx, ids)
		if err != nil {
			return nil, err
		}
		byID := make(map[string]*store.Job, len(jobs))
		for i := range jobs {
			byID[jobs[i].ID] = &jobs[i]
		}
		for _, id := range ids {
			if j := byID[id]; j != nil {
				out = append(out, j)
				delete(byID, id)
			}
		}
		return out, nil
	}
	for _, id := range ids {
		j, err := tx.Jobs().Get(ctx, id) // locks the job until commit
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, j)
	}
	return out, nil
}

// updateDue writes the state the tick leaves the planned jobs in: with
// store.JobDueUpdater only the columns the tick changes, in one statement,
// else each whole job.
func updateDue(ctx context.Context, tx store.Repos, plans []schedulerMiss) error {
	u, ok := tx.Jobs().(store.JobDueUpdater)
	if !ok {
		for _, plan := range plans {
			if err := tx.Jobs().Update(ctx, plan.job); err != nil {
				return err
			}
		}
		return nil
	}
	us := make([]store.JobDueUpdate, len(plans))
	for i, plan := range plans {
		j := plan.job
		us[i] = store.JobDueUpdate{
			ID: j.ID, State: j.State, NextDueAt: j.NextDueAt,
			LastResult: j.LastResult, ConsecutiveFailures: j.ConsecutiveFailures,
		}
	}
	return u.UpdateDue(ctx, us)
}

// plan lists the missed executions of a due job, oldest first and at most
// SchedulerMaxMissesPerTick, and its next deadline. A manual job expects no
// run, whatever deadline it was given: it gets none, and no miss.
func (sc *Scheduler) plan(j *store.Job, now time.Time) (schedulerMiss, error) {
	s := (*Service)(sc)
	plan := schedulerMiss{job: j}
	if j.Schedule.Kind == store.ScheduleManual {
		return plan, nil
	}
	deadline := j.NextDueAt
	for deadline != nil && !deadline.After(now) {
		if len(plan.runs) == SchedulerMaxMissesPerTick {
			// The rest is skipped: wait for the first deadline to come.
			next, err := NextDue(j.Schedule, j.Grace, now.Add(-j.Grace))
			plan.next = next
			return plan, err
		}
		expected := deadline.Add(-j.Grace)
		finished := *deadline
		plan.runs = append(plan.runs, &store.Execution{
			ID:         s.cfg.NewID(),
			JobID:      j.ID,
			RunID:      schedulerMissedRunPrefix + expected.UTC().Format(time.RFC3339),
			Status:     store.ExecutionMissed,
			StartedAt:  expected,
			FinishedAt: &finished,
			Message:    fmt.Sprintf("no run started by %s (expected at %s)", schedulerTime(finished), schedulerTime(expected)),
			Source:     store.SourceScheduler,
			CreatedAt:  s.Now(),
		})
		var err error
		if deadline, err = NextDue(j.Schedule, j.Grace, expected); err != nil {
			return plan, err
		}
	}
	plan.next = deadline
	return plan, nil
}

// missedSpec is the backup_missed alert of a run of j expected at
// expected and missing at deadline.
func missedSpec(j *store.Job, expected, deadline time.Time) alertSpec {
	id := j.ID
	return alertSpec{
		Type:     store.AlertBackupMissed,
		Severity: store.SeverityError,
		Subject:  jobSubject(j.ID),
		JobID:    &id,
		Title:    fmt.Sprintf("backup `%s` missed its run expected at %s", j.Name, schedulerTime(expected)),
		Message: fmt.Sprintf("job `%s` was expected to run at %s and has not reported by %s (grace %s)",
			j.Name, schedulerTime(expected), schedulerTime(deadline), j.Grace),
	}
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
		// The run may have finished, and resolved the alert, since the
		// listing: only a run still running is stuck.
		cur, err := tx.Executions().Get(ctx, e.ID)
		if errors.Is(err, store.ErrNotFound) || (err == nil && cur.Status != store.ExecutionRunning) {
			return nil
		}
		if err != nil {
			return err
		}
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
