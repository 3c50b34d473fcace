package store

import (
	"context"
	"time"
)

// Asset is a protected system or data set ("ERP database"). Its
// classification picks the compliance policy of its jobs, and compliance is
// also evaluated per asset over the union of its jobs' copies.
type Asset struct {
	ID             string
	Name           string // unique, case-insensitive
	Description    string
	Classification Classification
	OwnerID        *string
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

// Validate reports the fields of a that no store accepts.
func (a *Asset) Validate() error {
	var v validator
	v.name("name", a.Name)
	v.text("description", a.Description, MaxTextLen)
	enum(&v, "classification", a.Classification, classificationValues)
	return v.err()
}

// ListAssetsParams filters a list of assets, ordered by name.
type ListAssetsParams struct {
	PageParams
	Classification Classification // optional
	OwnerID        string         // optional
}

// AssetStore stores assets.
type AssetStore interface {
	Create(ctx context.Context, a *Asset) error
	Get(ctx context.Context, id string) (*Asset, error)
	GetByName(ctx context.Context, name string) (*Asset, error)
	GetMany(ctx context.Context, ids []string) ([]Asset, error)
	Update(ctx context.Context, a *Asset) error
	Delete(ctx context.Context, id string) error
	List(ctx context.Context, p ListAssetsParams) (*Page[Asset], error)
}

// Schedule says when a job's runs are expected.
type Schedule struct {
	Kind     ScheduleKind
	Cron     string        // 5-field cron expression, for ScheduleCron
	Interval time.Duration // for ScheduleInterval; whole seconds
	Timezone string        // IANA zone name for cron; empty means UTC
}

// Job is one backup job: what is backed up, by which tool, when.
type Job struct {
	ID           string
	Name         string // unique, case-insensitive
	Description  string
	AssetID      *string
	JobType      JobType
	Tool         Tool
	TargetServer string
	TargetPath   string
	Schedule     Schedule
	Grace        time.Duration // whole seconds
	MaxRuntime   time.Duration // whole seconds; 0 means no limit
	// RetentionDays is how long the tool keeps backups; 0 means unknown.
	RetentionDays int
	RPOTarget     time.Duration // whole seconds; 0 means none
	RTOTarget     time.Duration // whole seconds; 0 means none
	OwnerID       *string
	Tags          []string
	Active        bool
	Paused        bool
	// PingToken authenticates the job's ping URLs; unique.
	PingToken           string
	State               JobState
	NextDueAt           *time.Time // the deadline the scheduler watches
	LastRunAt           *time.Time
	LastSuccessAt       *time.Time
	LastResult          ExecutionStatus // empty before the first run
	ConsecutiveFailures int
	CreatedAt           time.Time
	UpdatedAt           time.Time
}

// Validate reports the fields of j that no store accepts. Cron syntax and
// zone names are the domain's to check; the store checks shape and bounds.
func (j *Job) Validate() error {
	var v validator
	v.name("name", j.Name)
	v.text("description", j.Description, MaxTextLen)
	enum(&v, "job_type", j.JobType, jobTypeValues)
	enum(&v, "tool", j.Tool, toolValues)
	v.text("target_server", j.TargetServer, MaxShortTextLen)
	v.text("target_path", j.TargetPath, MaxShortTextLen)
	enum(&v, "schedule.kind", j.Schedule.Kind, scheduleKindValues)
	v.text("schedule.cron", j.Schedule.Cron, 200)
	v.text("schedule.timezone", j.Schedule.Timezone, 64)
	for field, d := range map[string]time.Duration{
		"schedule.interval_seconds": j.Schedule.Interval,
		"grace_seconds":             j.Grace,
		"max_runtime_seconds":       j.MaxRuntime,
		"rpo_target_seconds":        j.RPOTarget,
		"rto_target_seconds":        j.RTOTarget,
	} {
		if d < 0 {
			v.add(field, "must not be negative")
		} else if d%time.Second != 0 {
			v.add(field, "must be whole seconds")
		}
	}
	v.count("retention_days", j.RetentionDays)
	if len(j.Tags) > 50 {
		v.add("tags", "at most 50 tags")
	}
	for _, t := range j.Tags {
		v.name("tags", t)
	}
	v.key("ping_token", j.PingToken, 64)
	enum(&v, "state", j.State, jobStateValues)
	if j.LastResult != "" {
		enum(&v, "last_result", j.LastResult, executionStatusValues)
	}
	v.count("consecutive_failures", j.ConsecutiveFailures)
	return v.err()
}

// ListJobsParams filters a list of jobs, ordered by name.
type ListJobsParams struct {
	PageParams
	Active  *bool    // optional
	Paused  *bool    // optional
	State   JobState // optional
	JobType JobType  // optional
	Tool    Tool     // optional
	AssetID string   // optional
	OwnerID string   // optional
	Tag     string   // optional: jobs carrying this tag
	// Query matches a substring of the name, ignoring case.
	Query string
}

// JobStore stores jobs.
type JobStore interface {
	Create(ctx context.Context, j *Job) error
	Get(ctx context.Context, id string) (*Job, error)
	GetByName(ctx context.Context, name string) (*Job, error)
	GetByPingToken(ctx context.Context, token string) (*Job, error)
	GetMany(ctx context.Context, ids []string) ([]Job, error)
	// Update writes every field but ID and CreatedAt.
	Update(ctx context.Context, j *Job) error
	// Delete removes a job with its copies, executions, verification records
	// and compliance history; its alerts stay, without the job.
	Delete(ctx context.Context, id string) error
	List(ctx context.Context, p ListJobsParams) (*Page[Job], error)
	// ListDue returns active, unpaused jobs whose NextDueAt is at or before
	// now, soonest first, at most limit (through an index).
	ListDue(ctx context.Context, now time.Time, limit int) ([]Job, error)
	// CountByState counts jobs per state; paused jobs count under
	// JobStatePaused whatever their state.
	CountByState(ctx context.Context) (map[JobState]int, error)
}

// Copy is a configured destination of a job's backups.
type Copy struct {
	ID             string
	JobID          string
	Name           string // unique per job, case-insensitive
	Role           CopyRole
	MediaType      MediaType
	Location       string
	Offsite        bool
	Offline        bool
	Immutable      bool
	ImmutableUntil *time.Time
	Encrypted      bool
	Compressed     bool
	MediaID        *string // the offline medium it is written to
	LastWrittenAt  *time.Time
	LastSizeBytes  int64
	Status         CopyStatus
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

// Validate reports the fields of c that no store accepts.
func (c *Copy) Validate() error {
	var v validator
	v.required("job_id", c.JobID)
	v.name("name", c.Name)
	enum(&v, "role", c.Role, copyRoleValues)
	enum(&v, "media_type", c.MediaType, mediaTypeValues)
	v.text("location", c.Location, MaxShortTextLen)
	if c.LastSizeBytes < 0 {
		v.add("last_size_bytes", "must not be negative")
	}
	enum(&v, "status", c.Status, copyStatusValues)
	return v.err()
}

// CopyStore stores copies.
type CopyStore interface {
	Create(ctx context.Context, c *Copy) error
	Get(ctx context.Context, id string) (*Copy, error)
	// Update writes every field but ID, JobID and CreatedAt: a copy stays
	// with its job.
	Update(ctx context.Context, c *Copy) error
	Delete(ctx context.Context, id string) error
	// ListByJob returns a job's copies ordered by name.
	ListByJob(ctx context.Context, jobID string) ([]Copy, error)
	// ListByJobs returns the copies of several jobs in one query.
	ListByJobs(ctx context.Context, jobIDs []string) ([]Copy, error)
}

// Execution is one run of a job. It is append-only except for the single
// step from running to finished.
type Execution struct {
	ID    string
	JobID string
	// CopyID names the copy the run wrote, when known.
	CopyID *string
	// RunID is the idempotency key, unique per job.
	RunID      string
	Status     ExecutionStatus
	StartedAt  time.Time
	FinishedAt *time.Time
	SizeBytes  int64
	Files      int64
	Errors     int64
	// Message is cut to MaxMessageLen characters when stored.
	Message    string
	Source     ExecutionSource
	SnapshotID string
	// LogExcerpt is cut to its last MaxLogExcerptLen characters when stored.
	LogExcerpt string
	// APIKeyID is the key that sent the record, if one did.
	APIKeyID  *string
	CreatedAt time.Time
}

// Duration is FinishedAt - StartedAt, or 0 while running.
func (e *Execution) Duration() time.Duration {
	if e.FinishedAt == nil {
		return 0
	}
	return e.FinishedAt.Sub(e.StartedAt)
}

// Validate reports the fields of e that no store accepts.
func (e *Execution) Validate() error {
	var v validator
	v.required("job_id", e.JobID)
	v.key("run_id", e.RunID, MaxNameLen)
	enum(&v, "status", e.Status, executionStatusValues)
	if e.StartedAt.IsZero() {
		v.add("started_at", "required")
	}
	if e.FinishedAt != nil && e.FinishedAt.Before(e.StartedAt) {
		v.add("finished_at", "must not be before started_at")
	}
	if e.Status == ExecutionRunning && e.FinishedAt != nil {
		v.add("finished_at", "must be empty while running")
	}
	if e.SizeBytes < 0 {
		v.add("size_bytes", "must not be negative")
	}
	if e.Files < 0 {
		v.add("files", "must not be negative")
	}
	if e.Errors < 0 {
		v.add("errors", "must not be negative")
	}
	enum(&v, "source", e.Source, executionSourceValues)
	v.text("snapshot_id", e.SnapshotID, MaxNameLen)
	return v.err()
}

// ListExecutionsParams filters a list of executions, newest start first.
type ListExecutionsParams struct {
	PageParams
	JobID   string          // optional
	Status  ExecutionStatus // optional
	Source  ExecutionSource // optional
	Started TimeRange       // optional bounds on StartedAt
}

// ExecutionStore stores executions.
type ExecutionStore interface {
	// Insert records e unless the job already has an execution with the same
	// RunID. It reports whether a row was created; when not, *e is replaced
	// by the stored execution.
	Insert(ctx context.Context, e *Execution) (created bool, err error)
	// InsertBatch is Insert for many executions in one statement where the
	// database allows. created[i] tells for es[i]; existing rows are loaded
	// into es[i].
	InsertBatch(ctx context.Context, es []*Execution) (created []bool, err error)
	Get(ctx context.Context, id string) (*Execution, error)
	GetByRunID(ctx context.Context, jobID, runID string) (*Execution, error)
	// Finish moves a running execution to its outcome, writing Status,
	// FinishedAt, SizeBytes, Files, Errors, Message, SnapshotID, LogExcerpt
	// and CopyID. It fails with ErrConflict if the stored row is no longer
	// running.
	Finish(ctx context.Context, e *Execution) error
	List(ctx context.Context, p ListExecutionsParams) (*Page[Execution], error)
	// CountByStatus counts executions started within r, per status.
	CountByStatus(ctx context.Context, jobID string, r TimeRange) (map[ExecutionStatus]int64, error)
	// SumSizeBytes adds up the sizes of executions started within r.
	SumSizeBytes(ctx context.Context, r TimeRange) (int64, error)
	// DeleteBefore removes finished executions started before t (retention).
	DeleteBefore(ctx context.Context, t time.Time) (int64, error)
}
