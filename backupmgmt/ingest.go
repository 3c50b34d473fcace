package backupmgmt

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/custos-dev/custos/store"
)

// Executions records backup runs and applies what each run means (DESIGN
// §4.2): the job's state and deadline, the copy it wrote, the backup alerts
// and, when a copy changed, the job's compliance. Recording is not audited
// (DESIGN §4.8): the rows carry the API key that sent them.
type Executions Service

// Executions gives the run-recording operations.
func (s *Service) Executions() *Executions { return (*Executions)(s) }

// ErrKeyJobMismatch is returned when an API key bound to one job records a
// run of another.
var ErrKeyJobMismatch = errors.New("backupmgmt: the API key may only record runs of the job it is bound to")

const (
	// IngestFutureSkew is how far in the future a run's start or finish may
	// lie: senders' clocks drift, but a run from tomorrow is a bug.
	IngestFutureSkew = 5 * time.Minute
	// RecordBatchMax is the most runs one RecordBatch takes.
	RecordBatchMax = 1000
)

// RecordParams is one run to record. Exactly one of JobID and JobName names
// the job.
type RecordParams struct {
	JobID   string
	JobName string
	// RunID is the idempotency key, unique per job. Defaults to a new ID
	// (returned in the result): without one, a retried request records the
	// run twice, and a start cannot be completed.
	RunID  string
	Status store.ExecutionStatus
	// StartedAt is required, at most IngestFutureSkew ahead of now.
	StartedAt time.Time
	// FinishedAt is required for an outcome (success, warning, failed,
	// canceled) and must be empty while running. It is not defaulted to
	// StartedAt: a made-up zero duration would hide slow runs from the
	// anomaly check and skew the SLA's mean duration.
	FinishedAt *time.Time
	SizeBytes  int64
	Files      int64
	Errors     int64
	// Message is cut to store.MaxMessageLen characters.
	Message string
	// CopyID names the copy the run wrote; it must be one of the job's.
	// A pointer to "" counts as none.
	CopyID *string
	// Source defaults to store.SourceAPI; store.SourceScheduler is the
	// scheduler's own.
	Source     store.ExecutionSource
	SnapshotID string
	// LogExcerpt keeps its last store.MaxLogExcerptLen characters.
	LogExcerpt string
}

// RecordResult is the outcome of recording one run.
type RecordResult struct {
	// Execution is the stored run: the new one, the completed one, or the
	// one recorded before under the same run ID.
	Execution *store.Execution
	// Created reports a new row. A repeated run ID gives false and changes
	// nothing, except that a finish completes a stored running row.
	Created bool
	// Completed reports that the record finished a stored running row of
	// the same run ID (a start followed by its finish).
	Completed bool
}

// BatchResult is the outcome of one item of RecordBatch: Err is nil when it
// was recorded (or found recorded before).
type BatchResult struct {
	Execution *store.Execution
	Created   bool
	Completed bool
	// Err is a *store.ValidationError with plain field names, or
	// ErrKeyJobMismatch.
	Err error
}

// Record records one run, with all its effects, in one transaction:
//
//   - the run is inserted, idempotently on (job, run ID); an outcome whose
//     run ID names a stored running row completes that row instead; any
//     other repeat returns the stored row with Created false and no effect;
//   - the job's last run, last result, last success, consecutive failures,
//     state and next deadline follow the run, unless a run that started
//     later is already recorded: a late record is stored but rewinds
//     nothing. A paused job keeps its state and deadline, and raises no
//     alert, while the facts (last run, result, copies) still follow;
//   - a success or warning naming a copy records the write on the copy
//     (status ok, or warning); a failure marks the copy failed;
//   - backup_failed is raised on a failure (critical from
//     Config.FailureEscalation consecutive failures on) and resolved with
//     backup_missed by a success or warning (backup_missed is looked for
//     when the job's last result is missed or its state missed or late, as
//     the scheduler leaves it); an outcome while the job was running
//     resolves backup_stuck; a success whose size is below 50 % or whose
//     duration is above 3× the median of the job's last
//     Config.AnomalyWindow successes (once there are
//     Config.AnomalyMinSamples) raises backup_anomaly, and a normal one
//     resolves it. A late record raises and resolves nothing: a newer run
//     already spoke for the job;
//   - compliance is re-evaluated when the run changes one of its inputs: a
//     copy never written or stale gets written, or a copy enters or leaves
//     the failed state. Other runs leave it alone, since compliance reads
//     the copies only as fresh, stale or failed: that keeps ingest fast,
//     and the periodic sweep covers copies aging.
//
// Bad input is a *store.ValidationError naming the field ("job_id" or
// "job_name": "no such job", "copy_id", "status", …) and writes nothing.
// An API key bound to another job gets ErrKeyJobMismatch.
func (x *Executions) Record(ctx context.Context, p RecordParams) (*RecordResult, error) {
	s := (*Service)(x)
	if err := s.ingestPrepare(&p, s.Now()); err != nil {
		return nil, err
	}
	if s.cfg.IngestGroupMax > 1 {
		return s.recordGrouped(ctx, p)
	}
	return s.recordAlone(ctx, p)
}

// RecordBatch records up to RecordBatchMax runs in order, each on its own as
// Record does: a bad item gets its error in its result and the others are
// recorded. The items share one transaction, each in a savepoint, so a
// batch costs one commit. The error is for the batch as a whole: no items,
// too many, or a store failure (then nothing is recorded).
func (x *Executions) RecordBatch(ctx context.Context, items []RecordParams) ([]BatchResult, error) {
	switch {
	case len(items) == 0:
		return nil, &store.ValidationError{Fields: map[string]string{"items": "required"}}
	case len(items) > RecordBatchMax:
		return nil, &store.ValidationError{Fields: map[string]string{"items": fmt.Sprintf("at most %d", RecordBatchMax)}}
	}
	s := (*Service)(x)
	now := s.Now()
	items = slices.Clone(items)
	invalid := make([]error, len(items))
	for i := range items {
		invalid[i] = s.ingestPrepare(&items[i], now)
	}
	out := make([]BatchResult, len(items))
	err := s.inTx(ctx, func(ctx context.Context, tx store.Repos) error {
		clear(out)
		for i := range items {
			if invalid[i] != nil {
				out[i].Err = invalid[i]
				continue
			}
			var res *RecordResult
			mark := afterCommitMark(ctx)
			err := tx.InTx(ctx, func(ctx context.Context, tx store.Repos) error {
				var err error
				res, err = s.ingestRecord(ctx, tx, items[i])
				return err
			})
			if err != nil {
				// The savepoint rolled back: so do its effects on memory.
				afterCommitUndo(ctx, mark)
			}
			switch {
			case err == nil:
				out[i] = BatchResult{Execution: res.Execution, Created: res.Created, Completed: res.Completed}
			case inputError(err):
				out[i].Err = err
			default:
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Get returns one execution.
func (x *Executions) Get(ctx context.Context, id string) (*store.Execution, error) {
	return x.store.Executions().Get(ctx, id)
}

// List returns executions, newest start first.
func (x *Executions) List(ctx context.Context, p store.ListExecutionsParams) (*store.Page[store.Execution], error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	fields := map[string]string{}
	if p.Status != "" && !p.Status.Valid() {
		fields["status"] = ingestEnumText(store.ExecutionStatusValues())
	}
	if p.Source != "" && !p.Source.Valid() {
		fields["source"] = ingestEnumText(store.ExecutionSourceValues())
	}
	if len(fields) > 0 {
		return nil, &store.ValidationError{Fields: fields}
	}
	return x.store.Executions().List(ctx, p)
}

// ingestPrepare checks p against everything that needs no query, fills
// its defaults (source, run ID) and puts its times in stored form. The run
// ID is made here, outside the transaction, so a retried transaction
// records the same run.
func (s *Service) ingestPrepare(p *RecordParams, now time.Time) error {
	f := ingestFields{}
	switch {
	case p.JobID == "" && p.JobName == "":
		f.add("job_id", "required (or job_name)")
	case p.JobID != "" && p.JobName != "":
		f.add("job_name", "must be empty when job_id is given")
	}
	if p.RunID != "" {
		if problem := ingestKeyProblem(p.RunID, store.MaxNameLen); problem != "" {
			f.add("run_id", problem)
		}
	}
	switch {
	case p.Status == "":
		f.add("status", "required")
	case p.Status == store.ExecutionMissed:
		f.add("status", "missed runs are recorded by the scheduler only")
	case !p.Status.Valid():
		f.add("status", ingestEnumText(slices.DeleteFunc(store.ExecutionStatusValues(), func(v store.ExecutionStatus) bool { return v == store.ExecutionMissed })))
	}
	limit := now.Add(IngestFutureSkew)
	p.StartedAt = store.NormalizeTime(p.StartedAt)
	switch {
	case p.StartedAt.IsZero():
		f.add("started_at", "required")
	case p.StartedAt.After(limit):
		f.add("started_at", "must not be more than 5 minutes in the future")
	}
	if p.FinishedAt != nil {
		t := store.NormalizeTime(*p.FinishedAt)
		p.FinishedAt = &t
	}
	switch {
	case p.Status == store.ExecutionRunning && p.FinishedAt != nil:
		f.add("finished_at", "must be empty while running")
	case p.Status != store.ExecutionRunning && p.Status != store.ExecutionMissed && p.Status.Valid() && p.FinishedAt == nil:
		f.add("finished_at", "required for a finished run")
	case p.FinishedAt == nil:
	case p.FinishedAt.Before(p.StartedAt):
		f.add("finished_at", "must not be before started_at")
	case p.FinishedAt.After(limit):
		f.add("finished_at", "must not be more than 5 minutes in the future")
	}
	for field, n := range map[string]int64{"size_bytes": p.SizeBytes, "files": p.Files, "errors": p.Errors} {
		if n < 0 {
			f.add(field, "must not be negative")
		}
	}
	if p.Source == "" {
		p.Source = store.SourceAPI
	}
	switch {
	case p.Source == store.SourceScheduler:
		f.add("source", "reserved for the scheduler")
	case !p.Source.Valid():
		f.add("source", ingestEnumText(store.ExecutionSourceValues()))
	}
	switch {
	case utf8.RuneCountInString(p.SnapshotID) > store.MaxNameLen:
		f.add("snapshot_id", fmt.Sprintf("at most %d characters", store.MaxNameLen))
	case p.SnapshotID != store.CleanText(p.SnapshotID):
		f.add("snapshot_id", "must be valid UTF-8 without NUL characters")
	}
	if p.CopyID != nil && *p.CopyID == "" {
		p.CopyID = nil
	}
	if err := f.err(); err != nil {
		return err
	}
	if p.RunID == "" {
		p.RunID = s.cfg.NewID()
	}
	return nil
}

// ingestRecord records a prepared run inside tx.
func (s *Service) ingestRecord(ctx context.Context, tx store.Repos, p RecordParams) (*RecordResult, error) {
	actor := ActorFrom(ctx)
	job, err := s.ingestJob(ctx, tx, p, actor)
	if err != nil {
		return nil, err
	}
	var cp *store.Copy
	if p.CopyID != nil {
		if cp, err = s.ingestCopyOf(ctx, tx, job, *p.CopyID); err != nil {
			return nil, err
		}
	}
	e := &store.Execution{
		JobID: job.ID, CopyID: p.CopyID, RunID: p.RunID, Status: p.Status,
		StartedAt: p.StartedAt, FinishedAt: p.FinishedAt,
		SizeBytes: p.SizeBytes, Files: p.Files, Errors: p.Errors,
		Message: p.Message, Source: p.Source, SnapshotID: p.SnapshotID, LogExcerpt: p.LogExcerpt,
		CreatedAt: s.Now(),
	}
	if actor.APIKeyID != "" {
		id := actor.APIKeyID
		e.APIKeyID = &id
	}
	return s.ingestExecution(ctx, tx, job, cp, e)
}

// ingestJob finds and locks the job of p, checking the key binding of the
// actor.
func (s *Service) ingestJob(ctx context.Context, tx store.Repos, p RecordParams, actor Actor) (*store.Job, error) {
	if actor.KeyJobID != "" && p.JobID != "" && p.JobID != actor.KeyJobID {
		return nil, ErrKeyJobMismatch
	}
	var (
		job   *store.Job
		err   error
		field = "job_id"
	)
	if j := groupJob(ctx, p.JobID); j != nil && p.JobID != "" {
		job = j
	} else if rr, ok := tx.(store.RunRecorder); ok && p.JobID != "" {
		job, err = rr.GetJobForRun(ctx, p.JobID)
	} else if p.JobID != "" {
		job, err = tx.Jobs().Get(ctx, p.JobID)
	} else {
		field = "job_name"
		job, err = tx.Jobs().GetByName(ctx, p.JobName)
	}
	switch {
	case errors.Is(err, store.ErrNotFound) && actor.KeyJobID != "":
		return nil, ErrKeyJobMismatch
	case errors.Is(err, store.ErrNotFound):
		return nil, &store.ValidationError{Fields: map[string]string{field: "no such job"}}
	case err != nil:
		return nil, fmt.Errorf("backupmgmt: find job: %w", err)
	case actor.KeyJobID != "" && job.ID != actor.KeyJobID:
		return nil, ErrKeyJobMismatch
	}
	return job, nil
}

// ingestCopyOf loads and locks a copy of job.
func (s *Service) ingestCopyOf(ctx context.Context, tx store.Repos, job *store.Job, id string) (*store.Copy, error) {
	var (
		c   *store.Copy
		err error
	)
	if rr, ok := tx.(store.RunRecorder); ok {
		c, err = rr.GetCopyForRun(ctx, id)
	} else {
		c, err = tx.Copies().Get(ctx, id)
	}
	switch {
	case errors.Is(err, store.ErrNotFound) || (err == nil && c.JobID != job.ID):
		return nil, &store.ValidationError{Fields: map[string]string{"copy_id": "no such copy of this job"}}
	case err != nil:
		return nil, fmt.Errorf("backupmgmt: find copy: %w", err)
	}
	return c, nil
}

// ingestExecution inserts e, or completes the stored running row of its run
// ID, and applies the effects of what changed. cp is the locked copy e
// names, if any; job is locked.
func (s *Service) ingestExecution(ctx context.Context, tx store.Repos, job *store.Job, cp *store.Copy, e *store.Execution) (*RecordResult, error) {
	in := *e
	var (
		created bool
		err     error
	)
	if rr, ok := tx.(store.RunRecorder); ok {
		created, err = rr.InsertRun(ctx, e)
	} else {
		created, err = tx.Executions().Insert(ctx, e)
	}
	if err != nil {
		return nil, fmt.Errorf("backupmgmt: record run: %w", err)
	}
	if created {
		s.observeRun(ctx, job, e)
		return &RecordResult{Execution: e, Created: true}, s.ingestApply(ctx, tx, job, cp, e, false)
	}
	if e.Status != store.ExecutionRunning || in.Status == store.ExecutionRunning {
		return &RecordResult{Execution: e}, nil
	}
	return s.ingestComplete(ctx, tx, job, cp, e, &in)
}

// ingestComplete finishes the stored running execution e with the outcome
// in, keeping what the start said where in says nothing, and applies the
// effects. cp is the locked copy in names, if any.
func (s *Service) ingestComplete(ctx context.Context, tx store.Repos, job *store.Job, cp *store.Copy, e, in *store.Execution) (*RecordResult, error) {
	var err error
	fin := *e
	fin.Status, fin.FinishedAt = in.Status, in.FinishedAt
	fin.SizeBytes, fin.Files, fin.Errors = in.SizeBytes, in.Files, in.Errors
	if in.Message != "" {
		fin.Message = in.Message
	}
	if in.SnapshotID != "" {
		fin.SnapshotID = in.SnapshotID
	}
	if in.LogExcerpt != "" {
		fin.LogExcerpt = in.LogExcerpt
	}
	if in.CopyID != nil {
		fin.CopyID = in.CopyID
	} else if fin.CopyID != nil {
		// The start named the copy and the finish did not.
		if cp, err = s.ingestCopyOf(ctx, tx, job, *fin.CopyID); err != nil {
			return nil, err
		}
	}
	if err := tx.Executions().Finish(ctx, &fin); err != nil {
		return nil, fmt.Errorf("backupmgmt: finish run: %w", err)
	}
	s.observeRun(ctx, job, &fin)
	return &RecordResult{Execution: &fin, Completed: true}, s.ingestApply(ctx, tx, job, cp, &fin, true)
}

// ingestApply applies the effects of a run that was just inserted or
// completed (wasRunning) to its job, copy, alerts and compliance.
func (s *Service) ingestApply(ctx context.Context, tx store.Repos, job *store.Job, cp *store.Copy, e *store.Execution, wasRunning bool) error {
	prev := *job
	late := prev.LastRunAt != nil && e.StartedAt.Before(*prev.LastRunAt)
	paused := job.Paused || job.State == store.JobStatePaused
	reevaluate := false
	if cp != nil {
		var err error
		if reevaluate, err = s.ingestCopy(ctx, tx, job, cp, e, late); err != nil {
			return err
		}
	}
	if late {
		s.ingestForgetRuns(ctx, job.ID)
	} else {
		if err := s.ingestJobState(ctx, tx, job, e, paused, wasRunning); err != nil {
			return err
		}
		var w ingestWindow
		if err := s.ingestAlerts(ctx, tx, &prev, job, e, paused, wasRunning, &w); err != nil {
			return err
		}
		s.ingestNoteRun(ctx, &prev, job, e, wasRunning, &w)
	}
	if reevaluate {
		if _, err := s.reevaluateJob(ctx, tx, job, nil); err != nil {
			return err
		}
	}
	return nil
}

// ingestCopy records what run e did to copy c, and reports whether that
// can change the job's compliance. A write is recorded only when it is
// newer than the copy's last, so a late record never makes a copy look
// older.
//
// Compliance reads a copy only as "fresh", "stale or never written", or
// "failed": writing a copy that was fresh and stays not failed changes no
// input of the evaluation, so the re-evaluation (four or five queries) is
// skipped for it, which is the common case of a healthy job. The periodic
// sweep covers the passing of time.
func (s *Service) ingestCopy(ctx context.Context, tx store.Repos, job *store.Job, c *store.Copy, e *store.Execution, late bool) (bool, error) {
	before := *c
	switch e.Status {
	case store.ExecutionSuccess, store.ExecutionWarning:
		if c.LastWrittenAt == nil || e.FinishedAt.After(*c.LastWrittenAt) {
			at := *e.FinishedAt
			c.LastWrittenAt, c.LastSizeBytes = &at, e.SizeBytes
			c.Status = store.CopyStatusOK
			if e.Status == store.ExecutionWarning {
				c.Status = store.CopyStatusWarning
			}
		}
	case store.ExecutionFailed:
		if !late {
			c.Status = store.CopyStatusFailed
		}
	}
	written := !ingestTimeEqual(before.LastWrittenAt, c.LastWrittenAt)
	if !written && before.Status == c.Status && before.LastSizeBytes == c.LastSizeBytes {
		return false, nil
	}
	// Only the write changed since the copy was read.
	var err error
	if rr, ok := tx.(store.RunRecorder); ok {
		err = rr.UpdateCopyWrite(ctx, c)
	} else {
		err = tx.Copies().Update(ctx, c)
	}
	if err != nil {
		return false, fmt.Errorf("backupmgmt: update copy %s: %w", c.ID, err)
	}
	wasFailed, isFailed := before.Status == store.CopyStatusFailed, c.Status == store.CopyStatusFailed
	switch {
	case wasFailed != isFailed:
		return true, nil
	case !written || isFailed:
		return false, nil
	case before.LastWrittenAt == nil:
		return true, nil
	}
	fresh, err := s.ingestFresh(ctx, tx, job, &before)
	return !fresh, err
}

// ingestFresh reports whether compliance counts copy c of job as fresh now.
func (s *Service) ingestFresh(ctx context.Context, tx store.Repos, job *store.Job, c *store.Copy) (bool, error) {
	var asset *store.Asset
	if job.AssetID != nil {
		a, err := tx.Assets().Get(ctx, *job.AssetID)
		switch {
		case err == nil:
			asset = a
		case !errors.Is(err, store.ErrNotFound):
			return false, fmt.Errorf("backupmgmt: find asset: %w", err)
		}
	}
	run := complianceRun{p: s.PolicyFor(asset).withDefaults()}
	window := run.freshnessWindow(*job, *c)
	return window == 0 || s.Now().Sub(*c.LastWrittenAt) <= window, nil
}

func ingestTimeEqual(a, b *time.Time) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Equal(*b)
}

// ingestJobState moves the job by run e, which is not older than its last
// run.
func (s *Service) ingestJobState(ctx context.Context, tx store.Repos, job *store.Job, e *store.Execution, paused, wasRunning bool) error {
	prev := *job
	started := e.StartedAt
	job.LastRunAt = &started
	state := job.State
	switch e.Status {
	case store.ExecutionRunning:
		state = store.JobStateRunning
	case store.ExecutionSuccess, store.ExecutionWarning:
		finished := *e.FinishedAt
		job.LastSuccessAt = &finished
		job.ConsecutiveFailures = 0
		state = store.JobStateUp
	case store.ExecutionFailed:
		if job.ConsecutiveFailures < 1<<31-1 {
			job.ConsecutiveFailures++
		}
		state = store.JobStateFailed
	case store.ExecutionCanceled:
		state = ingestRestingState(&prev)
	}
	if e.Status != store.ExecutionRunning {
		job.LastResult = e.Status
	}
	if !paused {
		job.State = state
		if !wasRunning {
			s.ingestAdvance(ctx, job, e.StartedAt)
		}
	}
	// Only the run state changed since the job was read.
	var err error
	if rr, ok := tx.(store.RunRecorder); ok {
		err = rr.UpdateJobRun(ctx, job)
	} else {
		err = tx.Jobs().Update(ctx, job)
	}
	if err != nil {
		return fmt.Errorf("backupmgmt: update job %s: %w", job.ID, err)
	}
	return nil
}

// ingestRestingState is the state a canceled run leaves a job in: the
// state before the run started, as far as the job still tells it.
func ingestRestingState(prev *store.Job) store.JobState {
	switch prev.State {
	case store.JobStateRunning, store.JobStateNew, "":
	default:
		return prev.State
	}
	switch prev.LastResult {
	case store.ExecutionFailed:
		return store.JobStateFailed
	case store.ExecutionMissed:
		return store.JobStateMissed
	}
	if prev.ConsecutiveFailures > 0 {
		return store.JobStateFailed
	}
	return store.JobStateUp
}

// ingestAdvance moves the job's deadline to the next expected run after a
// run that started at from, never earlier than it already is. A schedule
// that no longer validates keeps its deadline: losing the run over it
// would be worse.
func (s *Service) ingestAdvance(ctx context.Context, job *store.Job, from time.Time) {
	due, err := NextDue(job.Schedule, job.Grace, from)
	if err != nil {
		s.log.WarnContext(ctx, "job schedule invalid; deadline kept", "job_id", job.ID, "error", err.Error())
		return
	}
	if due != nil && job.NextDueAt != nil && job.NextDueAt.After(*due) {
		return
	}
	job.NextDueAt = due
}

// ingestAlerts raises and resolves the backup alerts of run e, which is not
// older than the job's last run. Lookups that cannot match are skipped:
// backup_failed is only open after a failure, backup_missed only after a
// missed run (the scheduler records it as the job's last result and
// state), backup_stuck only while the job was running.
// The anomaly check leaves the window it read in w.
func (s *Service) ingestAlerts(ctx context.Context, tx store.Repos, prev, job *store.Job, e *store.Execution, paused, wasRunning bool, w *ingestWindow) error {
	subject := jobSubject(job.ID)
	switch e.Status {
	case store.ExecutionRunning:
		return nil
	case store.ExecutionFailed:
		if !paused {
			if err := s.ingestRaiseFailed(ctx, tx, job, e); err != nil {
				return err
			}
		}
	case store.ExecutionSuccess, store.ExecutionWarning:
		if prev.ConsecutiveFailures > 0 || prev.LastResult == store.ExecutionFailed {
			if _, err := s.resolveAlert(ctx, tx, store.AlertBackupFailed, subject, store.ResolvedByAuto); err != nil {
				return err
			}
		}
		// A miss counts as a failure, so a miss followed by failed runs
		// leaves ConsecutiveFailures above 0 although LastResult is failed.
		if prev.ConsecutiveFailures > 0 || prev.LastResult == store.ExecutionMissed || prev.State == store.JobStateMissed || prev.State == store.JobStateLate {
			if _, err := s.resolveAlert(ctx, tx, store.AlertBackupMissed, subject, store.ResolvedByAuto); err != nil {
				return err
			}
		}
	}
	if wasRunning || prev.State == store.JobStateRunning {
		if _, err := s.resolveAlert(ctx, tx, store.AlertBackupStuck, subject, store.ResolvedByAuto); err != nil {
			return err
		}
	}
	if e.Status == store.ExecutionSuccess {
		return s.ingestAnomaly(ctx, tx, prev, job, e, paused, w)
	}
	return nil
}

func (s *Service) ingestRaiseFailed(ctx context.Context, tx store.Repos, job *store.Job, e *store.Execution) error {
	sev := store.SeverityError
	if job.ConsecutiveFailures >= s.cfg.FailureEscalation {
		sev = store.SeverityCritical
	}
	msg := e.Message
	if msg == "" {
		msg = "run " + e.RunID + " failed"
	}
	if job.ConsecutiveFailures > 1 {
		msg = fmt.Sprintf("%s (%d consecutive failures)", msg, job.ConsecutiveFailures)
	}
	_, _, err := s.raiseAlert(ctx, tx, alertSpec{
		Type: store.AlertBackupFailed, Severity: sev, Subject: jobSubject(job.ID), JobID: &job.ID,
		Title:   "backup of `" + job.Name + "` failed",
		Message: store.TruncateText(msg, store.MaxMessageLen),
	})
	return err
}

// Anomaly thresholds of DESIGN §4.6.
const (
	ingestAnomalySizeFraction = 0.5
	ingestAnomalyDurationMult = 3
)

// ingestAnomaly compares success e with the median of the job's last
// Config.AnomalyWindow successes that started before it, once there are
// Config.AnomalyMinSamples of them: a size below half the median or a
// duration above three times the median raises backup_anomaly, and a
// normal success resolves it. A median of zero (a tool that reports no
// size, pings with no duration) judges nothing. prev is the job as read;
// the window read is left in w.
func (s *Service) ingestAnomaly(ctx context.Context, tx store.Repos, prev, job *store.Job, e *store.Execution, paused bool, w *ingestWindow) error {
	if err := s.ingestAnomalyWindow(ctx, tx, prev, e.StartedAt, w); err != nil {
		return err
	}
	window := w.stats
	n := len(window)
	if n < s.cfg.AnomalyMinSamples || n == 0 {
		return nil
	}
	sizes := make([]int64, n)
	durations := make([]int64, n)
	for i := range window {
		sizes[i] = window[i].size
		durations[i] = int64(window[i].dur)
	}
	medSize, medDur := ingestMedian(sizes), time.Duration(ingestMedian(durations))
	dur := e.Duration()
	small := medSize > 0 && float64(e.SizeBytes) < ingestAnomalySizeFraction*float64(medSize)
	slow := medDur > 0 && dur > ingestAnomalyDurationMult*medDur
	subject := jobSubject(job.ID)
	if !small && !slow {
		if w.noAnomaly {
			// None is open, and none was raised since (ingest_stats.go):
			// nothing to resolve.
			return nil
		}
		if _, err := s.resolveAlert(ctx, tx, store.AlertBackupAnomaly, subject, store.ResolvedByAuto); err != nil {
			return err
		}
		w.noAnomaly = true
		return nil
	}
	if paused {
		return nil
	}
	w.noAnomaly = false
	var what []string
	if small {
		what = append(what, "size below 50 % of the median")
	}
	if slow {
		what = append(what, "duration above 3× the median")
	}
	msg := fmt.Sprintf("run %s: %s; size %s (median %s), duration %s (median %s) over the last %d successes",
		e.RunID, strings.Join(what, " and "), ingestBytes(e.SizeBytes), ingestBytes(medSize), dur, medDur, n)
	_, _, err := s.raiseAlert(ctx, tx, alertSpec{
		Type: store.AlertBackupAnomaly, Severity: store.SeverityWarning, Subject: subject, JobID: &job.ID,
		Title:   "backup of `" + job.Name + "` looks anomalous",
		Message: store.TruncateText(msg, store.MaxMessageLen),
	})
	return err
}

// ingestAnomalyScan bounds how many of a job's latest runs the anomaly
// window is looked for in: a job whose last runs are mostly failures is
// judged on the successes among them.
const ingestAnomalyScan = store.LimitMax

// ingestAnomalyWindow finds the job's last Config.AnomalyWindow successes
// among its ingestAnomalyScan latest runs that started before before,
// newest first, and leaves them in w: from the cache when its entry is
// current (ingest_stats.go), else from the database.
func (s *Service) ingestAnomalyWindow(ctx context.Context, tx store.Repos, prev *store.Job, before time.Time, w *ingestWindow) error {
	if entry, ok := s.ingestStatsOf(ctx, prev); ok && ingestStatsBefore(entry.stats, before) {
		*w = ingestWindow{known: true, seeded: entry.seeded, stats: entry.stats, noAnomaly: entry.noAnomaly}
		return nil
	}
	stats, err := s.ingestAnomalyRead(ctx, tx, prev.ID, before)
	if err != nil {
		return err
	}
	*w = ingestWindow{known: true, fromQuery: true, seeded: s.Now(), stats: stats}
	return nil
}

// ingestStatsBefore reports whether every success of stats started before
// before, as the window of a run started at before must.
func ingestStatsBefore(stats []ingestStat, before time.Time) bool {
	for _, st := range stats {
		if !st.startedAt.Before(before) {
			return false
		}
	}
	return true
}

// ingestAnomalyRead reads the anomaly window from the database: through
// store.SuccessSampler (narrow rows) where the store has it, else by
// listing the job's runs by start and keeping the successes. Both read
// the job's runs by start instead of asking for successes: SQLite answers
// a query filtered by job and status through the status index, scanning
// the successes of every job (8 ms with 40,000 runs, against 1 ms this
// way), while the job's own index reads only its newest rows. A healthy
// job needs one query of two rows more than the window; failures among
// them cost a further, larger page, until ingestAnomalyScan runs were
// read.
func (s *Service) ingestAnomalyRead(ctx context.Context, tx store.Repos, jobID string, before time.Time) ([]ingestStat, error) {
	need := s.cfg.AnomalyWindow
	if sampler, ok := tx.(store.SuccessSampler); ok {
		samples, err := sampler.RecentSuccesses(ctx, store.RecentSuccessesParams{JobID: jobID, Before: before, Scan: ingestAnomalyScan, Limit: need})
		if err != nil {
			return nil, fmt.Errorf("backupmgmt: anomaly window: %w", err)
		}
		out := make([]ingestStat, len(samples))
		for i, x := range samples {
			out[i] = ingestStat{rank: x.Rank, startedAt: x.StartedAt, size: x.SizeBytes, dur: x.Duration}
		}
		return out, nil
	}
	p := store.ListExecutionsParams{JobID: jobID, Started: store.TimeRange{To: before}}
	p.Limit = min(need+2, store.LimitMax)
	out := make([]ingestStat, 0, need)
	for scanned := 0; ; {
		page, err := tx.Executions().List(ctx, p)
		if err != nil {
			return nil, fmt.Errorf("backupmgmt: anomaly window: %w", err)
		}
		for i := range page.Items {
			x := &page.Items[i]
			if x.Status == store.ExecutionSuccess && len(out) < need {
				out = append(out, ingestStat{rank: scanned + i, startedAt: x.StartedAt, size: x.SizeBytes, dur: x.Duration()})
			}
		}
		scanned += len(page.Items)
		if len(out) >= need || page.NextCursor == "" || scanned >= ingestAnomalyScan {
			return out, nil
		}
		p.Cursor = page.NextCursor
		p.Limit = min(4*(need-len(out))+4, ingestAnomalyScan-scanned)
	}
}

// ingestMedian returns the median of v (the mean of the middle two for an
// even count); v is reordered.
func ingestMedian(v []int64) int64 {
	slices.Sort(v)
	m := len(v) / 2
	if len(v)%2 == 1 {
		return v[m]
	}
	return v[m-1]/2 + v[m]/2 + (v[m-1]%2+v[m]%2)/2
}

// ingestBytes prints a size in binary units: "512 B", "1.5 MiB".
func ingestBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit && exp < 5; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

// ingestFields collects field errors, the first per field.
type ingestFields map[string]string

func (f ingestFields) add(field, msg string) {
	if _, ok := f[field]; !ok {
		f[field] = msg
	}
}

func (f ingestFields) err() error {
	if len(f) == 0 {
		return nil
	}
	return &store.ValidationError{Fields: f}
}

// ingestKeyProblem says what keeps s from being a key (run ID, rid), the
// way the store would refuse it; "" when it is fine.
func ingestKeyProblem(s string, n int) string {
	switch {
	case strings.TrimSpace(s) == "":
		return "required"
	case s != strings.TrimSpace(s):
		return "must not start or end with spaces"
	case utf8.RuneCountInString(s) > n:
		return fmt.Sprintf("at most %d characters", n)
	case !utf8.ValidString(s):
		return "must be valid UTF-8"
	case strings.IndexByte(s, 0) >= 0:
		return "must not contain NUL characters"
	}
	return ""
}

func ingestEnumText[E ~string](values []E) string {
	names := make([]string, len(values))
	for i, v := range values {
		names[i] = string(v)
	}
	return "must be one of: " + strings.Join(names, ", ")
}
