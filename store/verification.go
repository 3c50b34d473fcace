package store

import (
	"context"
	"time"
)

// VerificationTest is a recorded restore test: the evidence behind the "0"
// of 3-2-1-1-0.
type VerificationTest struct {
	ID            string
	JobID         string
	CopyID        *string
	TestType      TestType
	Result        TestResult
	TestedAt      time.Time
	TesterID      *string
	RestoreTarget string
	// Duration is how long the restore took: the measured RTO. Whole seconds.
	Duration     time.Duration
	FilesChecked int64
	FilesFailed  int64
	Issues       string
	Notes        string
	CreatedAt    time.Time
}

// Validate reports the fields of t that no store accepts.
func (t *VerificationTest) Validate() error {
	var v validator
	v.required("job_id", t.JobID)
	enum(&v, "test_type", t.TestType, testTypeValues)
	enum(&v, "result", t.Result, testResultValues)
	if t.TestedAt.IsZero() {
		v.add("tested_at", "required")
	}
	v.text("restore_target", t.RestoreTarget, MaxShortTextLen)
	if t.Duration < 0 {
		v.add("duration_seconds", "must not be negative")
	}
	if t.FilesChecked < 0 {
		v.add("files_checked", "must not be negative")
	}
	if t.FilesFailed < 0 {
		v.add("files_failed", "must not be negative")
	}
	v.text("issues", t.Issues, MaxTextLen)
	v.text("notes", t.Notes, MaxTextLen)
	return v.err()
}

// ListVerificationTestsParams filters a list of tests, newest first.
type ListVerificationTestsParams struct {
	PageParams
	JobID  string     // optional
	Result TestResult // optional
	Tested TimeRange  // optional bounds on TestedAt
}

// VerificationTestStore stores restore tests.
type VerificationTestStore interface {
	Create(ctx context.Context, t *VerificationTest) error
	Get(ctx context.Context, id string) (*VerificationTest, error)
	Delete(ctx context.Context, id string) error
	List(ctx context.Context, p ListVerificationTestsParams) (*Page[VerificationTest], error)
	// Latest returns the most recent test of a job, or ErrNotFound.
	Latest(ctx context.Context, jobID string) (*VerificationTest, error)
	// LatestByJobs returns the most recent test of each of several jobs that
	// has one, in one query.
	LatestByJobs(ctx context.Context, jobIDs []string) ([]VerificationTest, error)
}

// VerificationSchedule says how often a job's restores must be tested. A job
// has at most one active schedule.
type VerificationSchedule struct {
	ID           string
	JobID        string
	Frequency    Frequency
	TestType     TestType
	NextDueOn    Date
	LastTestedOn *Date
	AssigneeID   *string
	Active       bool
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// Validate reports the fields of s that no store accepts.
func (s *VerificationSchedule) Validate() error {
	var v validator
	v.required("job_id", s.JobID)
	enum(&v, "frequency", s.Frequency, frequencyValues)
	enum(&v, "test_type", s.TestType, testTypeValues)
	if s.NextDueOn.IsZero() {
		v.add("next_due_on", "required")
	}
	return v.err()
}

// ListVerificationSchedulesParams filters a list of schedules, soonest due
// first.
type ListVerificationSchedulesParams struct {
	PageParams
	JobID  string // optional
	Active *bool  // optional
	// DueBefore keeps schedules whose NextDueOn is before it (overdue lists).
	DueBefore *Date
}

// VerificationScheduleStore stores verification schedules.
type VerificationScheduleStore interface {
	Create(ctx context.Context, s *VerificationSchedule) error
	Get(ctx context.Context, id string) (*VerificationSchedule, error)
	// GetActiveByJob returns the job's active schedule, or ErrNotFound.
	GetActiveByJob(ctx context.Context, jobID string) (*VerificationSchedule, error)
	Update(ctx context.Context, s *VerificationSchedule) error
	Delete(ctx context.Context, id string) error
	List(ctx context.Context, p ListVerificationSchedulesParams) (*Page[VerificationSchedule], error)
}

// ComplianceReason explains one finding of an evaluation with its evidence.
type ComplianceReason struct {
	// Rule is "3copies", "2media", "1offsite", "1offline", "0errors" or
	// "policy".
	Rule string `json:"rule"`
	// Severity is "error" for a required rule, "warning" for a soft one.
	Severity string `json:"severity"`
	// Message names the evidence: "copy `tape-weekly` last written 12 days
	// ago, limit 7".
	Message string `json:"message"`
}

// ComplianceState is the latest evaluation of a job or an asset. There is
// one per subject.
type ComplianceState struct {
	SubjectType        SubjectType
	SubjectID          string
	Status             ComplianceStatus
	Copies             int // fresh backup copies
	MediaTypes         int // distinct media types among them
	Offsite            bool
	OfflineOrImmutable bool
	Verified           bool
	Score              int // 0–100
	Reasons            []ComplianceReason
	EvaluatedAt        time.Time
	ChangedAt          time.Time // when Status last changed
}

// Validate reports the fields of s that no store accepts.
func (s *ComplianceState) Validate() error {
	var v validator
	enum(&v, "subject_type", s.SubjectType, subjectTypeValues)
	v.required("subject_id", s.SubjectID)
	enum(&v, "status", s.Status, complianceStatusValues)
	if s.Score < 0 || s.Score > 100 {
		v.add("score", "must be between 0 and 100")
	}
	v.count("copies", s.Copies)
	v.count("media_types", s.MediaTypes)
	if s.EvaluatedAt.IsZero() {
		v.add("evaluated_at", "required")
	}
	return v.err()
}

// ComplianceChange is one transition of a subject's status; evaluations
// that change nothing write none.
type ComplianceChange struct {
	ID          string
	SubjectType SubjectType
	SubjectID   string
	From        ComplianceStatus
	To          ComplianceStatus
	At          time.Time
	Reasons     []ComplianceReason
}

// Validate reports the fields of c that no store accepts.
func (c *ComplianceChange) Validate() error {
	var v validator
	enum(&v, "subject_type", c.SubjectType, subjectTypeValues)
	v.required("subject_id", c.SubjectID)
	enum(&v, "from", c.From, complianceStatusValues)
	enum(&v, "to", c.To, complianceStatusValues)
	return v.err()
}

// ListComplianceStatesParams filters the latest states, ordered by subject.
type ListComplianceStatesParams struct {
	PageParams
	SubjectType SubjectType      // optional
	Status      ComplianceStatus // optional
}

// ListComplianceChangesParams filters the history, newest first.
type ListComplianceChangesParams struct {
	PageParams
	SubjectType SubjectType // optional
	SubjectID   string      // optional
	At          TimeRange   // optional
}

// ComplianceStore stores compliance states and their history.
type ComplianceStore interface {
	// PutState inserts or replaces the state of its subject.
	PutState(ctx context.Context, s *ComplianceState) error
	GetState(ctx context.Context, subjectType SubjectType, subjectID string) (*ComplianceState, error)
	// GetStates returns the states of several subjects of one type in one
	// query.
	GetStates(ctx context.Context, subjectType SubjectType, subjectIDs []string) ([]ComplianceState, error)
	DeleteState(ctx context.Context, subjectType SubjectType, subjectID string) error
	ListStates(ctx context.Context, p ListComplianceStatesParams) (*Page[ComplianceState], error)
	// CountByStatus counts the latest states of one subject type per status.
	CountByStatus(ctx context.Context, subjectType SubjectType) (map[ComplianceStatus]int, error)
	AddChange(ctx context.Context, c *ComplianceChange) error
	ListChanges(ctx context.Context, p ListComplianceChangesParams) (*Page[ComplianceChange], error)
}

// DailyRollup holds one day's totals so that dashboards and trends cost a
// row per day, not a row per execution.
type DailyRollup struct {
	Day                Date // UTC day
	ExecutionsSuccess  int64
	ExecutionsWarning  int64
	ExecutionsFailed   int64
	ExecutionsCanceled int64
	ExecutionsMissed   int64
	BytesWritten       int64
	JobsCompliant      int
	JobsWarning        int
	JobsNonCompliant   int
	JobsUnknown        int
	UpdatedAt          time.Time
}

// Validate reports the fields of r that no store accepts.
func (r *DailyRollup) Validate() error {
	var v validator
	if r.Day.IsZero() {
		v.add("day", "required")
	}
	for name, n := range map[string]int64{
		"executions_success": r.ExecutionsSuccess, "executions_warning": r.ExecutionsWarning,
		"executions_failed": r.ExecutionsFailed, "executions_canceled": r.ExecutionsCanceled,
		"executions_missed": r.ExecutionsMissed, "bytes_written": r.BytesWritten,
	} {
		if n < 0 {
			v.add(name, "must not be negative")
		}
	}
	v.count("jobs_compliant", r.JobsCompliant)
	v.count("jobs_warning", r.JobsWarning)
	v.count("jobs_non_compliant", r.JobsNonCompliant)
	v.count("jobs_unknown", r.JobsUnknown)
	return v.err()
}

// RollupStore stores daily rollups.
type RollupStore interface {
	// Put inserts or replaces the rollup of r.Day.
	Put(ctx context.Context, r *DailyRollup) error
	Get(ctx context.Context, day Date) (*DailyRollup, error)
	// List returns the rollups of the days from..to inclusive, oldest first.
	List(ctx context.Context, from, to Date) ([]DailyRollup, error)
	// DeleteBefore removes the rollups of days before day (retention).
	DeleteBefore(ctx context.Context, day Date) (int64, error)
}
