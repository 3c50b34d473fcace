package httpapi

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/custos-dev/custos/backupmgmt"
	"github.com/custos-dev/custos/store"
)

// JobSchedule is when a job is expected to run:
// {"kind": "cron", "cron": "0 2 * * *", "timezone": "Asia/Tokyo"},
// {"kind": "interval", "interval_seconds": 3600} or {"kind": "manual"}.
type JobSchedule struct {
	Kind            store.ScheduleKind `json:"kind" required:"true"`
	Cron            *string            `json:"cron,omitempty" doc:"5-field cron expression, for kind cron"`
	Timezone        *string            `json:"timezone,omitempty" doc:"IANA zone of the cron expression; UTC when absent"`
	IntervalSeconds *int64             `json:"interval_seconds,omitempty" doc:"for kind interval"`
}

func scheduleView(s store.Schedule) JobSchedule {
	out := JobSchedule{Kind: s.Kind, Cron: strPtr(s.Cron), Timezone: strPtr(s.Timezone)}
	if s.Interval != 0 {
		n := seconds(s.Interval)
		out.IntervalSeconds = &n
	}
	return out
}

func (s *JobSchedule) schedule() store.Schedule {
	return store.Schedule{
		Kind: s.Kind, Cron: deref(s.Cron), Timezone: deref(s.Timezone),
		Interval: duration(deref(s.IntervalSeconds)),
	}
}

// Job is a backup job. PingURL is its healthchecks-compatible ping URL,
// shown only to callers who may record runs or edit jobs: the token in it
// records runs of the job.
type Job struct {
	ID                  string                 `json:"id"`
	Name                string                 `json:"name"`
	Description         string                 `json:"description"`
	AssetID             *string                `json:"asset_id,omitempty"`
	JobType             store.JobType          `json:"job_type"`
	Tool                store.Tool             `json:"tool"`
	TargetServer        string                 `json:"target_server"`
	TargetPath          string                 `json:"target_path"`
	Schedule            JobSchedule            `json:"schedule"`
	GraceSeconds        int64                  `json:"grace_seconds"`
	MaxRuntimeSeconds   int64                  `json:"max_runtime_seconds"`
	RetentionDays       int                    `json:"retention_days"`
	RPOTargetSeconds    int64                  `json:"rpo_target_seconds"`
	RTOTargetSeconds    int64                  `json:"rto_target_seconds"`
	OwnerID             *string                `json:"owner_id,omitempty"`
	Tags                []string               `json:"tags"`
	Active              bool                   `json:"active"`
	Paused              bool                   `json:"paused"`
	State               store.JobState         `json:"state"`
	NextDueAt           *time.Time             `json:"next_due_at,omitempty"`
	LastRunAt           *time.Time             `json:"last_run_at,omitempty"`
	LastSuccessAt       *time.Time             `json:"last_success_at,omitempty"`
	LastResult          *store.ExecutionStatus `json:"last_result,omitempty"`
	ConsecutiveFailures int                    `json:"consecutive_failures"`
	PingURL             *string                `json:"ping_url,omitempty" doc:"present for callers who may record runs or edit jobs"`
	CreatedAt           time.Time              `json:"created_at"`
	UpdatedAt           time.Time              `json:"updated_at"`
}

// jobView is the wire form of j; pingURL may be nil.
func jobView(j *store.Job, pingURL *string) Job {
	out := Job{
		ID: j.ID, Name: j.Name, Description: j.Description, AssetID: j.AssetID,
		JobType: j.JobType, Tool: j.Tool, TargetServer: j.TargetServer, TargetPath: j.TargetPath,
		Schedule:          scheduleView(j.Schedule),
		GraceSeconds:      seconds(j.Grace),
		MaxRuntimeSeconds: seconds(j.MaxRuntime),
		RetentionDays:     j.RetentionDays,
		RPOTargetSeconds:  seconds(j.RPOTarget),
		RTOTargetSeconds:  seconds(j.RTOTarget),
		OwnerID:           j.OwnerID,
		Tags:              append([]string{}, j.Tags...),
		Active:            j.Active, Paused: j.Paused, State: j.State,
		NextDueAt: utcPtr(j.NextDueAt), LastRunAt: utcPtr(j.LastRunAt), LastSuccessAt: utcPtr(j.LastSuccessAt),
		ConsecutiveFailures: j.ConsecutiveFailures,
		PingURL:             pingURL,
		CreatedAt:           utc(j.CreatedAt), UpdatedAt: utc(j.UpdatedAt),
	}
	if j.LastResult != "" {
		lr := j.LastResult
		out.LastResult = &lr
	}
	return out
}

// job is the view of j for the caller of r.
func (a *API) job(r *http.Request, j *store.Job) Job { return jobView(j, a.pingURL(r, j.PingToken)) }

// JobCreate is the body of POST /api/v1/jobs.
type JobCreate struct {
	Name              string        `json:"name" required:"true"`
	Description       string        `json:"description"`
	AssetID           *string       `json:"asset_id"`
	JobType           store.JobType `json:"job_type" required:"true"`
	Tool              store.Tool    `json:"tool" required:"true"`
	TargetServer      string        `json:"target_server"`
	TargetPath        string        `json:"target_path"`
	Schedule          *JobSchedule  `json:"schedule" required:"true"`
	GraceSeconds      int64         `json:"grace_seconds"`
	MaxRuntimeSeconds int64         `json:"max_runtime_seconds" doc:"0 for no limit"`
	RetentionDays     int           `json:"retention_days" doc:"0 for unknown"`
	RPOTargetSeconds  int64         `json:"rpo_target_seconds"`
	RTOTargetSeconds  int64         `json:"rto_target_seconds"`
	OwnerID           *string       `json:"owner_id"`
	Tags              []string      `json:"tags"`
	Active            *bool         `json:"active" doc:"defaults to true"`
	Paused            bool          `json:"paused" doc:"create the job paused"`
}

// JobPatch is the body of PATCH /api/v1/jobs/{id}: absent fields are kept.
// Pausing is POST .../pause and .../resume, the ping token
// POST .../ping-token.
type JobPatch struct {
	Name              *string        `json:"name"`
	Description       *string        `json:"description"`
	AssetID           *string        `json:"asset_id" doc:"\"\" removes the asset"`
	JobType           *store.JobType `json:"job_type"`
	Tool              *store.Tool    `json:"tool"`
	TargetServer      *string        `json:"target_server"`
	TargetPath        *string        `json:"target_path"`
	Schedule          *JobSchedule   `json:"schedule" doc:"replaces the whole schedule"`
	GraceSeconds      *int64         `json:"grace_seconds"`
	MaxRuntimeSeconds *int64         `json:"max_runtime_seconds"`
	RetentionDays     *int           `json:"retention_days"`
	RPOTargetSeconds  *int64         `json:"rpo_target_seconds"`
	RTOTargetSeconds  *int64         `json:"rto_target_seconds"`
	OwnerID           *string        `json:"owner_id" doc:"\"\" removes the owner"`
	Tags              []string       `json:"tags" doc:"replaces the tags; [] removes them"`
	Active            *bool          `json:"active"`
}

// JobSLA is a job's service level over a window ending now (DESIGN §4.7).
type JobSLA struct {
	JobID                   string     `json:"job_id"`
	WindowSeconds           int64      `json:"window_seconds"`
	WindowStartAt           time.Time  `json:"window_start_at"`
	WindowEndAt             time.Time  `json:"window_end_at"`
	Runs                    int        `json:"runs" doc:"finished runs started in the window, canceled ones left out"`
	Successes               int        `json:"successes" doc:"success and warning runs"`
	Failures                int        `json:"failures" doc:"failed and missed runs"`
	Missed                  int        `json:"missed"`
	Canceled                int        `json:"canceled"`
	SuccessRate             *float64   `json:"success_rate,omitempty" doc:"successes / runs, 0 to 1; absent without runs"`
	MeanDurationSeconds     int64      `json:"mean_duration_seconds"`
	MaxDurationSeconds      int64      `json:"max_duration_seconds"`
	LastSuccessAt           *time.Time `json:"last_success_at,omitempty"`
	SinceLastSuccessSeconds int64      `json:"since_last_success_seconds"`
	RPOTargetSeconds        int64      `json:"rpo_target_seconds"`
	WithinRPO               *float64   `json:"within_rpo,omitempty" doc:"share of the window within the RPO target, 0 to 1; absent without a target"`
	Target                  float64    `json:"target"`
	Breached                bool       `json:"breached"`
}

func jobSLAView(s *backupmgmt.JobSLA) JobSLA {
	return JobSLA{
		JobID: s.JobID, WindowSeconds: seconds(s.Window), WindowStartAt: utc(s.From), WindowEndAt: utc(s.To),
		Runs: s.Runs, Successes: s.Successes, Failures: s.Failures, Missed: s.Missed, Canceled: s.Canceled,
		SuccessRate: s.SuccessRate, MeanDurationSeconds: seconds(s.MeanDuration), MaxDurationSeconds: seconds(s.MaxDuration),
		LastSuccessAt: utcPtr(s.LastSuccessAt), SinceLastSuccessSeconds: seconds(s.SinceLastSuccess),
		RPOTargetSeconds: seconds(s.RPOTarget), WithinRPO: s.WithinRPO, Target: s.Target, Breached: s.Breached,
	}
}

// jobSLAMaxDays bounds window_days: ten years of runs is already more than
// anyone keeps.
const jobSLAMaxDays = 3660

func (a *API) jobRoutes() []*route {
	const one = "/api/v1/jobs/{id}"
	routes := []*route{
		{
			method: "GET", path: "/api/v1/jobs", perm: backupmgmt.PermRead, tag: "jobs",
			summary: "List jobs, ordered by name",
			resp:    List[Job]{}, status: http.StatusOK,
			query: append([]queryParam{
				{name: "active", typ: "boolean"},
				{name: "paused", typ: "boolean"},
				{name: "state", enum: enumOf[store.JobState]()},
				{name: "job_type", enum: enumOf[store.JobType]()},
				{name: "tool", enum: enumOf[store.Tool]()},
				{name: "asset_id", desc: "only jobs of this asset"},
				{name: "owner_id", desc: "only jobs of this owner"},
				{name: "tag", desc: "only jobs carrying this tag"},
				{name: "q", desc: "a substring of the name, ignoring case"},
			}, pageParams...),
			h: a.listJobs,
		},
		{
			method: "POST", path: "/api/v1/jobs", perm: backupmgmt.PermJobsWrite, tag: "jobs",
			summary: "Create a job; the answer carries its ping_url",
			body:    JobCreate{}, resp: Job{}, status: http.StatusCreated,
			h: a.createJob,
		},
		{
			method: "GET", path: one, perm: backupmgmt.PermRead, resource: "job", tag: "jobs",
			summary: "Get a job",
			resp:    Job{}, status: http.StatusOK,
			h: a.getJob,
		},
		{
			method: "PATCH", path: one, perm: backupmgmt.PermJobsWrite, resource: "job", tag: "jobs",
			summary: "Change a job",
			body:    JobPatch{}, resp: Job{}, status: http.StatusOK,
			h: a.patchJob,
		},
		{
			method: "DELETE", path: one, perm: backupmgmt.PermDelete, resource: "job", tag: "jobs",
			summary: "Delete a job with its copies, executions and verification records",
			status:  http.StatusNoContent,
			h:       a.deleteJob,
		},
		{
			method: "POST", path: one + "/pause", perm: backupmgmt.PermJobsWrite, resource: "job", tag: "jobs",
			summary: "Pause a job: it is never missed until resumed",
			resp:    Job{}, status: http.StatusOK,
			h: a.jobAction((*backupmgmt.Jobs).Pause),
		},
		{
			method: "POST", path: one + "/resume", perm: backupmgmt.PermJobsWrite, resource: "job", tag: "jobs",
			summary: "Resume a paused job; its deadline counts from now",
			resp:    Job{}, status: http.StatusOK,
			h: a.jobAction((*backupmgmt.Jobs).Resume),
		},
		{
			method: "POST", path: one + "/ping-token", perm: backupmgmt.PermJobsWrite, resource: "job", tag: "jobs",
			summary: "Give a job a new ping token; the old ping URL stops working at once",
			resp:    Job{}, status: http.StatusOK,
			h: a.jobAction((*backupmgmt.Jobs).RotatePingToken),
		},
		{
			method: "GET", path: one + "/executions", perm: backupmgmt.PermRead, resource: "job", tag: "jobs",
			summary: "List a job's executions, newest start first",
			resp:    List[Execution]{}, status: http.StatusOK,
			query: append(executionFilters(false), pageParams...),
			h:     a.listJobExecutions,
		},
		{
			method: "GET", path: one + "/sla", perm: backupmgmt.PermRead, resource: "job", tag: "jobs",
			summary: "A job's service level over the last window_days days",
			resp:    JobSLA{}, status: http.StatusOK,
			query: []queryParam{{name: "window_days", typ: "integer", desc: "the window, 1 to 3660 days; defaults to the server's SLA window (30 days)"}},
			h:     a.jobSLA,
		},
	}
	return append(routes, a.copyRoutes()...)
}

func (a *API) listJobs(w http.ResponseWriter, r *http.Request) error {
	q := newQuery(r)
	p := store.ListJobsParams{
		PageParams: q.page(),
		Active:     q.boolean("active"),
		Paused:     q.boolean("paused"),
		State:      store.JobState(q.str("state")),
		JobType:    store.JobType(q.str("job_type")),
		Tool:       store.Tool(q.str("tool")),
		AssetID:    q.str("asset_id"),
		OwnerID:    q.str("owner_id"),
		Tag:        q.str("tag"),
		Query:      q.str("q"),
	}
	if err := q.err(); err != nil {
		return err
	}
	return a.memo.serve(w, a.memoKey(r, a.pingURLShown(r)), func() (any, error) {
		page, err := a.svc.Jobs().List(r.Context(), p)
		if err != nil {
			return nil, err
		}
		return listOf(page, func(j *store.Job) Job { return a.job(r, j) }), nil
	})
}

func (a *API) createJob(w http.ResponseWriter, r *http.Request) error {
	var in JobCreate
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	j, err := a.svc.Jobs().Create(r.Context(), backupmgmt.JobParams{
		Name: in.Name, Description: in.Description, AssetID: in.AssetID,
		JobType: in.JobType, Tool: in.Tool, TargetServer: in.TargetServer, TargetPath: in.TargetPath,
		Schedule: in.Schedule.schedule(),
		Grace:    duration(in.GraceSeconds), MaxRuntime: duration(in.MaxRuntimeSeconds),
		RetentionDays: in.RetentionDays,
		RPOTarget:     duration(in.RPOTargetSeconds), RTOTarget: duration(in.RTOTargetSeconds),
		OwnerID: in.OwnerID, Tags: in.Tags, Active: in.Active, Paused: in.Paused,
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, a.job(r, j))
	return nil
}

func (a *API) getJob(w http.ResponseWriter, r *http.Request) error {
	j, err := a.svc.Jobs().Get(r.Context(), pathID(r, "id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, a.job(r, j))
	return nil
}

func (a *API) patchJob(w http.ResponseWriter, r *http.Request) error {
	var in JobPatch
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	u := backupmgmt.JobUpdate{
		Name: in.Name, Description: in.Description, AssetID: in.AssetID,
		JobType: in.JobType, Tool: in.Tool, TargetServer: in.TargetServer, TargetPath: in.TargetPath,
		Grace: durationPtr(in.GraceSeconds), MaxRuntime: durationPtr(in.MaxRuntimeSeconds),
		RetentionDays: in.RetentionDays,
		RPOTarget:     durationPtr(in.RPOTargetSeconds), RTOTarget: durationPtr(in.RTOTargetSeconds),
		OwnerID: in.OwnerID, Tags: in.Tags, Active: in.Active,
	}
	if in.Schedule != nil {
		s := in.Schedule.schedule()
		u.Schedule = &s
	}
	j, err := a.svc.Jobs().Update(r.Context(), pathID(r, "id"), u)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, a.job(r, j))
	return nil
}

func (a *API) deleteJob(w http.ResponseWriter, r *http.Request) error {
	if err := a.svc.Jobs().Delete(r.Context(), pathID(r, "id")); err != nil {
		return err
	}
	noContent(w)
	return nil
}

// jobAction serves a body-less POST that changes a job and answers with it.
func (a *API) jobAction(do func(*backupmgmt.Jobs, context.Context, string) (*store.Job, error)) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		j, err := do(a.svc.Jobs(), r.Context(), pathID(r, "id"))
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, a.job(r, j))
		return nil
	}
}

func (a *API) listJobExecutions(w http.ResponseWriter, r *http.Request) error {
	q := newQuery(r)
	p := executionParams(q, false)
	p.JobID = pathID(r, "id")
	if err := q.err(); err != nil {
		return err
	}
	// An unknown job would list as empty; say that it does not exist.
	if _, err := a.svc.Jobs().Get(r.Context(), p.JobID); err != nil {
		return err
	}
	page, err := a.svc.Executions().List(r.Context(), p)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, listOf(page, executionView))
	return nil
}

func (a *API) jobSLA(w http.ResponseWriter, r *http.Request) error {
	q := newQuery(r)
	days := q.integer("window_days", 0, 1, jobSLAMaxDays)
	if err := q.err(); err != nil {
		return err
	}
	s, err := a.svc.SLA().Job(r.Context(), pathID(r, "id"), time.Duration(days)*24*time.Hour)
	var ve *store.ValidationError
	if errors.As(err, &ve) {
		return renameFields(ve, map[string]string{"window": "window_days"})
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, jobSLAView(s))
	return nil
}

// renameFields returns ve with its domain field names replaced by the wire
// names of this endpoint.
func renameFields(ve *store.ValidationError, names map[string]string) error {
	fields := make(map[string]string, len(ve.Fields))
	for k, v := range ve.Fields {
		if n, ok := names[k]; ok {
			k = n
		}
		fields[k] = v
	}
	return invalid(fields)
}
