package backupmgmt

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/custos-dev/custos/store"
)

// VerificationDueSoonDays is how many days ahead a scheduled restore test
// counts as due soon (DESIGN §4.4).
const VerificationDueSoonDays = 7

// Verification records restore tests and keeps the schedules that say how
// often they are due (DESIGN §4.4). Tests feed the "0" of 3-2-1-1-0.
type Verification Service

// Verification gives the restore-test operations.
func (s *Service) Verification() *Verification { return (*Verification)(s) }

// FrequencyMonths is the number of calendar months between tests of a
// schedule with frequency f, or 0 for an unknown frequency.
func FrequencyMonths(f store.Frequency) int {
	switch f {
	case store.FrequencyMonthly:
		return 1
	case store.FrequencyQuarterly:
		return 3
	case store.FrequencySemiannual:
		return 6
	case store.FrequencyAnnual:
		return 12
	}
	return 0
}

// VerificationNextDue is when the next test falls due after one on tested,
// in calendar months: a test on Jan 31 with a monthly schedule is due on
// Feb 28 (or 29), not in March.
func VerificationNextDue(f store.Frequency, tested store.Date) store.Date {
	return tested.AddMonths(FrequencyMonths(f))
}

// TestParams is a restore test to record.
type TestParams struct {
	JobID string
	// CopyID is the copy restored from, optional; it must belong to the job.
	CopyID   string
	TestType store.TestType
	Result   store.TestResult
	// TestedAt defaults to now and must not be in the future.
	TestedAt time.Time
	// TesterID defaults to the user of the actor.
	TesterID      string
	RestoreTarget string
	// Duration is how long the restore took (the measured RTO); whole
	// seconds are kept.
	Duration     time.Duration
	FilesChecked int64
	FilesFailed  int64
	Issues       string
	Notes        string
}

// RecordTest stores a restore test and applies its effects in one
// transaction: the job's active schedule advances from the test date (unless
// the test is older than the schedule's last one), verification_failed is
// raised when the job's latest test failed and resolved when it passed,
// verification_overdue is resolved unless the schedule is still overdue, and
// the job's compliance is evaluated again. A backdated test that is not the
// job's latest changes no alert: the "0" is judged on the latest test.
func (v *Verification) RecordTest(ctx context.Context, p TestParams) (*store.VerificationTest, error) {
	s := (*Service)(v)
	now := s.Now()
	t := &store.VerificationTest{
		ID:            s.cfg.NewID(),
		JobID:         p.JobID,
		TestType:      p.TestType,
		Result:        p.Result,
		TestedAt:      store.NormalizeTime(p.TestedAt),
		RestoreTarget: p.RestoreTarget,
		Duration:      p.Duration,
		FilesChecked:  p.FilesChecked,
		FilesFailed:   p.FilesFailed,
		Issues:        p.Issues,
		Notes:         p.Notes,
		CreatedAt:     now,
	}
	if t.TestedAt.IsZero() {
		t.TestedAt = now
	}
	if p.CopyID != "" {
		t.CopyID = &p.CopyID
	}
	tester := p.TesterID
	if tester == "" {
		tester = ActorFrom(ctx).UserID
	}
	if tester != "" {
		t.TesterID = &tester
	}
	f := verifFieldErrors{}
	if err := f.merge(t.Validate()); err != nil {
		return nil, err
	}
	if t.TestedAt.After(now) {
		f.add("tested_at", "must not be in the future")
	}
	if p.FilesFailed > p.FilesChecked {
		f.add("files_failed", "must not exceed files_checked")
	}
	if err := f.err(); err != nil {
		return nil, err
	}
	err := s.inTx(ctx, func(ctx context.Context, tx store.Repos) error {
		job, err := verifJob(ctx, tx, t.JobID)
		if err != nil {
			return err
		}
		f := verifFieldErrors{}
		if t.CopyID != nil {
			c, err := tx.Copies().Get(ctx, *t.CopyID)
			switch {
			case errors.Is(err, store.ErrNotFound):
				f.add("copy_id", "no such copy")
			case err != nil:
				return err
			case c.JobID != job.ID:
				f.add("copy_id", "not a copy of this job")
			}
		}
		if t.TesterID != nil {
			if err := verifUserExists(ctx, tx, f, "tester_id", *t.TesterID); err != nil {
				return err
			}
		}
		if err := f.err(); err != nil {
			return err
		}
		if err := tx.VerificationTests().Create(ctx, t); err != nil {
			return fmt.Errorf("backupmgmt: record restore test: %w", err)
		}
		result, took := string(t.Result), t.Duration
		afterCommit(ctx, func() { s.cfg.Observer.VerificationRecorded(result, took) })
		sched, err := verifActiveSchedule(ctx, tx, job.ID)
		if err != nil {
			return err
		}
		if sched != nil {
			tested := store.DateOf(t.TestedAt, s.cfg.Location)
			if sched.LastTestedOn == nil || !tested.Before(*sched.LastTestedOn) {
				sched.LastTestedOn = &tested
				sched.NextDueOn = VerificationNextDue(sched.Frequency, tested)
				if err := tx.VerificationSchedules().Update(ctx, sched); err != nil {
					return fmt.Errorf("backupmgmt: advance verification schedule: %w", err)
				}
			}
		}
		latest, err := tx.VerificationTests().Latest(ctx, job.ID)
		if err != nil {
			return err
		}
		if latest.ID == t.ID {
			if err := s.verifFailedAlert(ctx, tx, job, latest); err != nil {
				return err
			}
		}
		if err := s.verifOverdueCleared(ctx, tx, job.ID, sched); err != nil {
			return err
		}
		if _, err := s.reevaluateJob(ctx, tx, job, nil); err != nil {
			return err
		}
		return s.audit(ctx, tx, "verification.record", "verification_test", t.ID, map[string]any{
			"job_id": t.JobID, "copy_id": p.CopyID, "test_type": t.TestType, "result": t.Result,
			"tested_at": t.TestedAt, "duration_seconds": int64(t.Duration / time.Second),
			"files_checked": t.FilesChecked, "files_failed": t.FilesFailed,
		})
	})
	if err != nil {
		return nil, err
	}
	return t, nil
}

// verifFailedAlert makes verification_failed follow the job's latest test:
// raised (critical) when it failed, resolved when it passed or there is
// none.
func (s *Service) verifFailedAlert(ctx context.Context, tx store.Repos, job *store.Job, latest *store.VerificationTest) error {
	subject := jobSubject(job.ID)
	if latest == nil || latest.Result != store.TestFailed {
		_, err := s.resolveAlert(ctx, tx, store.AlertVerificationFailed, subject, store.ResolvedByAuto)
		return err
	}
	msg := fmt.Sprintf("%s test on %s failed", latest.TestType, store.DateOf(latest.TestedAt, s.cfg.Location))
	if latest.FilesChecked > 0 {
		msg += fmt.Sprintf(", %d of %d files failed", latest.FilesFailed, latest.FilesChecked)
	}
	if latest.Issues != "" {
		msg += ": " + latest.Issues
	}
	_, _, err := s.raiseAlert(ctx, tx, alertSpec{
		Type: store.AlertVerificationFailed, Severity: store.SeverityCritical, Subject: subject,
		JobID: &job.ID, Title: "restore test of job `" + job.Name + "` failed",
		Message: store.TruncateText(msg, store.MaxMessageLen),
	})
	return err
}

// verifOverdueCleared resolves the job's verification_overdue alert unless
// sched, its active schedule after the change, is still overdue.
func (s *Service) verifOverdueCleared(ctx context.Context, tx store.Repos, jobID string, sched *store.VerificationSchedule) error {
	if sched != nil && sched.Active && sched.NextDueOn.Before(s.Today()) {
		return nil
	}
	_, err := s.resolveAlert(ctx, tx, store.AlertVerificationOverdue, jobSubject(jobID), store.ResolvedByAuto)
	return err
}

// GetTest returns one restore test.
func (v *Verification) GetTest(ctx context.Context, id string) (*store.VerificationTest, error) {
	return v.store.VerificationTests().Get(ctx, id)
}

// ListTests lists restore tests, newest first.
func (v *Verification) ListTests(ctx context.Context, p store.ListVerificationTestsParams) (*store.Page[store.VerificationTest], error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	if p.Result != "" && !p.Result.Valid() {
		return nil, &store.ValidationError{Fields: map[string]string{"result": "unknown result"}}
	}
	return v.store.VerificationTests().List(ctx, p)
}

// DeleteTest removes a restore test (an admin action; the HTTP layer checks
// the role). When it was the job's latest, verification_failed follows the
// test that is latest now, and compliance is evaluated again. The schedule
// keeps its dates: they record when a test was done, which stays true.
func (v *Verification) DeleteTest(ctx context.Context, id string) error {
	s := (*Service)(v)
	return s.inTx(ctx, func(ctx context.Context, tx store.Repos) error {
		t, err := tx.VerificationTests().Get(ctx, id)
		if err != nil {
			return err
		}
		job, err := tx.Jobs().Get(ctx, t.JobID)
		if err != nil {
			return err
		}
		before, err := tx.VerificationTests().Latest(ctx, job.ID)
		if err != nil {
			return err
		}
		if err := tx.VerificationTests().Delete(ctx, id); err != nil {
			return err
		}
		if before.ID == id {
			latest, err := tx.VerificationTests().Latest(ctx, job.ID)
			if errors.Is(err, store.ErrNotFound) {
				latest, err = nil, nil
			}
			if err != nil {
				return err
			}
			if err := s.verifFailedAlert(ctx, tx, job, latest); err != nil {
				return err
			}
		}
		if _, err := s.reevaluateJob(ctx, tx, job, nil); err != nil {
			return err
		}
		return s.audit(ctx, tx, "verification.delete", "verification_test", id, map[string]any{
			"job_id": t.JobID, "result": t.Result, "tested_at": t.TestedAt,
		})
	})
}

// ScheduleParams is a verification schedule to create.
type ScheduleParams struct {
	JobID     string
	Frequency store.Frequency
	TestType  store.TestType
	// NextDueOn defaults to the frequency after the job's latest test, or
	// after today when it has none.
	NextDueOn  store.Date
	AssigneeID string // optional
}

// CreateSchedule adds the job's active schedule; a job has at most one.
func (v *Verification) CreateSchedule(ctx context.Context, p ScheduleParams) (*store.VerificationSchedule, error) {
	s := (*Service)(v)
	sched := &store.VerificationSchedule{
		ID:        s.cfg.NewID(),
		JobID:     p.JobID,
		Frequency: p.Frequency,
		TestType:  p.TestType,
		NextDueOn: p.NextDueOn,
		Active:    true,
		CreatedAt: s.Now(),
	}
	if p.AssigneeID != "" {
		sched.AssigneeID = &p.AssigneeID
	}
	f := verifFieldErrors{}
	if err := f.merge(sched.Validate()); err != nil {
		return nil, err
	}
	if p.NextDueOn.IsZero() {
		delete(f, "next_due_on") // defaulted below
	}
	if err := f.err(); err != nil {
		return nil, err
	}
	err := s.inTx(ctx, func(ctx context.Context, tx store.Repos) error {
		job, err := verifJob(ctx, tx, p.JobID)
		if err != nil {
			return err
		}
		f := verifFieldErrors{}
		if sched.AssigneeID != nil {
			if err := verifUserExists(ctx, tx, f, "assignee_id", *sched.AssigneeID); err != nil {
				return err
			}
		}
		if cur, err := verifActiveSchedule(ctx, tx, job.ID); err != nil {
			return err
		} else if cur != nil {
			f.add("job_id", "already has an active schedule")
		}
		if err := f.err(); err != nil {
			return err
		}
		latest, err := tx.VerificationTests().Latest(ctx, job.ID)
		switch {
		case errors.Is(err, store.ErrNotFound):
			if p.NextDueOn.IsZero() {
				sched.NextDueOn = VerificationNextDue(sched.Frequency, s.Today())
			}
		case err != nil:
			return err
		default:
			tested := store.DateOf(latest.TestedAt, s.cfg.Location)
			sched.LastTestedOn = &tested
			if p.NextDueOn.IsZero() {
				sched.NextDueOn = VerificationNextDue(sched.Frequency, tested)
			}
		}
		if err := tx.VerificationSchedules().Create(ctx, sched); err != nil {
			if errors.Is(err, store.ErrConflict) {
				return &store.ValidationError{Fields: map[string]string{"job_id": "already has an active schedule"}}
			}
			return fmt.Errorf("backupmgmt: create verification schedule: %w", err)
		}
		if err := s.verifOverdueCleared(ctx, tx, job.ID, sched); err != nil {
			return err
		}
		if _, err := s.reevaluateJob(ctx, tx, job, nil); err != nil {
			return err
		}
		return s.audit(ctx, tx, "verification_schedule.create", "verification_schedule", sched.ID, verifScheduleDetails(sched))
	})
	if err != nil {
		return nil, err
	}
	return sched, nil
}

// ScheduleUpdate changes a schedule; nil fields stay as they are.
type ScheduleUpdate struct {
	// Frequency, when changed without NextDueOn, moves NextDueOn to the new
	// frequency after LastTestedOn (if the schedule has one).
	Frequency *store.Frequency
	TestType  *store.TestType
	NextDueOn *store.Date
	// AssigneeID "" removes the assignee.
	AssigneeID *string
	// Active false retires the schedule; true makes it the job's active one
	// again, when the job has no other.
	Active *bool
}

// UpdateSchedule changes a schedule and evaluates the job's compliance
// again. The schedule stays with its job.
func (v *Verification) UpdateSchedule(ctx context.Context, id string, u ScheduleUpdate) (*store.VerificationSchedule, error) {
	s := (*Service)(v)
	var out *store.VerificationSchedule
	err := s.inTx(ctx, func(ctx context.Context, tx store.Repos) error {
		sched, err := tx.VerificationSchedules().Get(ctx, id)
		if err != nil {
			return err
		}
		wasActive := sched.Active
		if u.Frequency != nil && *u.Frequency != sched.Frequency {
			sched.Frequency = *u.Frequency
			if u.NextDueOn == nil && sched.LastTestedOn != nil && sched.Frequency.Valid() {
				sched.NextDueOn = VerificationNextDue(sched.Frequency, *sched.LastTestedOn)
			}
		}
		if u.TestType != nil {
			sched.TestType = *u.TestType
		}
		if u.NextDueOn != nil {
			sched.NextDueOn = *u.NextDueOn
		}
		if u.AssigneeID != nil {
			sched.AssigneeID = nil
			if *u.AssigneeID != "" {
				sched.AssigneeID = u.AssigneeID
			}
		}
		if u.Active != nil {
			sched.Active = *u.Active
		}
		f := verifFieldErrors{}
		if err := f.merge(sched.Validate()); err != nil {
			return err
		}
		if u.AssigneeID != nil && *u.AssigneeID != "" {
			if err := verifUserExists(ctx, tx, f, "assignee_id", *u.AssigneeID); err != nil {
				return err
			}
		}
		if sched.Active && !wasActive {
			if cur, err := verifActiveSchedule(ctx, tx, sched.JobID); err != nil {
				return err
			} else if cur != nil {
				f.add("active", "the job already has an active schedule")
			}
		}
		if err := f.err(); err != nil {
			return err
		}
		if err := tx.VerificationSchedules().Update(ctx, sched); err != nil {
			if errors.Is(err, store.ErrConflict) {
				return &store.ValidationError{Fields: map[string]string{"active": "the job already has an active schedule"}}
			}
			return fmt.Errorf("backupmgmt: update verification schedule: %w", err)
		}
		if wasActive || sched.Active {
			if err := s.verifOverdueCleared(ctx, tx, sched.JobID, sched); err != nil {
				return err
			}
		}
		if err := s.verifReevaluate(ctx, tx, sched.JobID); err != nil {
			return err
		}
		out = sched
		return s.audit(ctx, tx, "verification_schedule.update", "verification_schedule", sched.ID, verifScheduleDetails(sched))
	})
	return out, err
}

// DeleteSchedule removes a schedule (an admin action; the HTTP layer checks
// the role). Without an active schedule the job's cadence falls back to the
// policy's VerificationMaxAge.
func (v *Verification) DeleteSchedule(ctx context.Context, id string) error {
	s := (*Service)(v)
	return s.inTx(ctx, func(ctx context.Context, tx store.Repos) error {
		sched, err := tx.VerificationSchedules().Get(ctx, id)
		if err != nil {
			return err
		}
		if err := tx.VerificationSchedules().Delete(ctx, id); err != nil {
			return err
		}
		if sched.Active {
			if err := s.verifOverdueCleared(ctx, tx, sched.JobID, nil); err != nil {
				return err
			}
		}
		if err := s.verifReevaluate(ctx, tx, sched.JobID); err != nil {
			return err
		}
		return s.audit(ctx, tx, "verification_schedule.delete", "verification_schedule", id, verifScheduleDetails(sched))
	})
}

// GetSchedule returns one schedule.
func (v *Verification) GetSchedule(ctx context.Context, id string) (*store.VerificationSchedule, error) {
	return v.store.VerificationSchedules().Get(ctx, id)
}

// ListSchedules lists schedules, soonest due first.
func (v *Verification) ListSchedules(ctx context.Context, p store.ListVerificationSchedulesParams) (*store.Page[store.VerificationSchedule], error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	return v.store.VerificationSchedules().List(ctx, p)
}

// VerificationDue lists the active schedules that need attention, soonest
// first.
type VerificationDue struct {
	// DueSoon fall due today or within VerificationDueSoonDays.
	DueSoon []store.VerificationSchedule
	// Overdue were due before today.
	Overdue []store.VerificationSchedule
}

// Due returns the active schedules that are overdue (NextDueOn before today
// in Config.Location) or due within VerificationDueSoonDays.
func (v *Verification) Due(ctx context.Context) (VerificationDue, error) {
	s := (*Service)(v)
	today := s.Today()
	var out VerificationDue
	err := verifEachSchedule(ctx, s.store, today.AddDays(VerificationDueSoonDays+1), func(sc store.VerificationSchedule) error {
		if sc.NextDueOn.Before(today) {
			out.Overdue = append(out.Overdue, sc)
		} else {
			out.DueSoon = append(out.DueSoon, sc)
		}
		return nil
	})
	return out, err
}

// TickOverdue raises verification_overdue (warning) for every active
// schedule due before today, once more for those already raised, and reports
// how many it raised. Each schedule is handled in its own transaction.
func (v *Verification) TickOverdue(ctx context.Context) (int, error) {
	s := (*Service)(v)
	today := s.Today()
	n := 0
	err := verifEachSchedule(ctx, s.store, today, func(listed store.VerificationSchedule) error {
		raised := false // set by the attempt that commits; inTx may run fn again
		err := s.inTx(ctx, func(ctx context.Context, tx store.Repos) error {
			raised = false
			sc, err := tx.VerificationSchedules().Get(ctx, listed.ID)
			if err != nil {
				return err
			}
			if !sc.Active || !sc.NextDueOn.Before(today) {
				return nil // tested or changed since the listing
			}
			job, err := tx.Jobs().Get(ctx, sc.JobID)
			if err != nil {
				return err
			}
			_, _, err = s.raiseAlert(ctx, tx, alertSpec{
				Type: store.AlertVerificationOverdue, Severity: store.SeverityWarning, Ongoing: true,
				Subject: jobSubject(job.ID), JobID: &job.ID,
				Title: "restore test of job `" + job.Name + "` is overdue",
				Message: fmt.Sprintf("%s %s test was due %s (%s)", sc.Frequency, sc.TestType, sc.NextDueOn,
					complianceDaysText(complianceDaysBetween(today, sc.NextDueOn))),
			})
			raised = err == nil
			return err
		})
		if errors.Is(err, store.ErrNotFound) {
			return nil // deleted since the listing
		}
		if err == nil && raised {
			n++
		}
		return err
	})
	return n, err
}

// verifEachSchedule calls fn for every active schedule due before before,
// soonest first, a page at a time.
func verifEachSchedule(ctx context.Context, st store.Store, before store.Date, fn func(store.VerificationSchedule) error) error {
	active := true
	p := store.ListVerificationSchedulesParams{Active: &active, DueBefore: &before}
	p.Limit = store.LimitMax
	for {
		page, err := st.VerificationSchedules().List(ctx, p)
		if err != nil {
			return fmt.Errorf("backupmgmt: list verification schedules: %w", err)
		}
		for _, sc := range page.Items {
			if err := fn(sc); err != nil {
				return err
			}
		}
		if page.NextCursor == "" {
			return nil
		}
		p.Cursor = page.NextCursor
	}
}

func verifScheduleDetails(sc *store.VerificationSchedule) map[string]any {
	d := map[string]any{
		"job_id": sc.JobID, "frequency": sc.Frequency, "test_type": sc.TestType,
		"next_due_on": sc.NextDueOn.String(), "active": sc.Active,
	}
	if sc.AssigneeID != nil {
		d["assignee_id"] = *sc.AssigneeID
	}
	return d
}

// verifReevaluate evaluates a job's compliance again, if the job still
// exists.
func (s *Service) verifReevaluate(ctx context.Context, tx store.Repos, jobID string) error {
	job, err := tx.Jobs().Get(ctx, jobID)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	_, err = s.reevaluateJob(ctx, tx, job, nil)
	return err
}

// verifJob loads a job named by input: a missing one is a job_id field
// error, not a not-found.
func verifJob(ctx context.Context, tx store.Repos, id string) (*store.Job, error) {
	job, err := tx.Jobs().Get(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, &store.ValidationError{Fields: map[string]string{"job_id": "no such job"}}
	}
	return job, err
}

// verifActiveSchedule returns the job's active schedule, or nil.
func verifActiveSchedule(ctx context.Context, tx store.Repos, jobID string) (*store.VerificationSchedule, error) {
	sc, err := tx.VerificationSchedules().GetActiveByJob(ctx, jobID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	return sc, err
}

// verifUserExists adds a field error when no user has the id.
func verifUserExists(ctx context.Context, tx store.Repos, f verifFieldErrors, field, id string) error {
	_, err := tx.Users().Get(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		f.add(field, "no such user")
		return nil
	}
	return err
}

// verifFieldErrors collects field errors of one call; the first error of a
// field wins. The media and rotation services use it too.
type verifFieldErrors map[string]string

func (f verifFieldErrors) add(field, msg string) {
	if _, ok := f[field]; !ok {
		f[field] = msg
	}
}

// merge adds the fields of a *store.ValidationError and returns any other
// error unchanged.
func (f verifFieldErrors) merge(err error) error {
	var ve *store.ValidationError
	if errors.As(err, &ve) {
		for k, msg := range ve.Fields {
			f.add(k, msg)
		}
		return nil
	}
	return err
}

func (f verifFieldErrors) err() error {
	if len(f) == 0 {
		return nil
	}
	return &store.ValidationError{Fields: f}
}
