package httpapi

import (
	"net/http"
	"time"

	"github.com/custos-dev/custos/backupmgmt"
	"github.com/custos-dev/custos/store"
)

// VerificationTest is a recorded restore test (DESIGN §4.4).
type VerificationTest struct {
	ID            string           `json:"id"`
	JobID         string           `json:"job_id"`
	CopyID        *string          `json:"copy_id,omitempty"`
	TestType      store.TestType   `json:"test_type"`
	Result        store.TestResult `json:"result"`
	TestedAt      time.Time        `json:"tested_at"`
	TesterID      *string          `json:"tester_id,omitempty"`
	RestoreTarget string           `json:"restore_target"`
	// DurationSeconds is how long the restore took: the measured RTO.
	DurationSeconds int64     `json:"duration_seconds"`
	FilesChecked    int64     `json:"files_checked"`
	FilesFailed     int64     `json:"files_failed"`
	Issues          string    `json:"issues"`
	Notes           string    `json:"notes"`
	CreatedAt       time.Time `json:"created_at"`
}

func verificationTestView(t *store.VerificationTest) VerificationTest {
	return VerificationTest{
		ID: t.ID, JobID: t.JobID, CopyID: t.CopyID, TestType: t.TestType, Result: t.Result,
		TestedAt: utc(t.TestedAt), TesterID: t.TesterID, RestoreTarget: t.RestoreTarget,
		DurationSeconds: seconds(t.Duration), FilesChecked: t.FilesChecked, FilesFailed: t.FilesFailed,
		Issues: t.Issues, Notes: t.Notes, CreatedAt: utc(t.CreatedAt),
	}
}

// VerificationSchedule says how often a job's restores are tested.
type VerificationSchedule struct {
	ID           string          `json:"id"`
	JobID        string          `json:"job_id"`
	Frequency    store.Frequency `json:"frequency"`
	TestType     store.TestType  `json:"test_type"`
	NextDueOn    store.Date      `json:"next_due_on"`
	LastTestedOn *store.Date     `json:"last_tested_on,omitempty"`
	AssigneeID   *string         `json:"assignee_id,omitempty"`
	Active       bool            `json:"active"`
	CreatedAt    time.Time       `json:"created_at"`
	UpdatedAt    time.Time       `json:"updated_at"`
}

func verificationScheduleView(s *store.VerificationSchedule) VerificationSchedule {
	return VerificationSchedule{
		ID: s.ID, JobID: s.JobID, Frequency: s.Frequency, TestType: s.TestType, NextDueOn: s.NextDueOn,
		LastTestedOn: s.LastTestedOn, AssigneeID: s.AssigneeID, Active: s.Active,
		CreatedAt: utc(s.CreatedAt), UpdatedAt: utc(s.UpdatedAt),
	}
}

// VerificationDue lists the active schedules that need attention, soonest
// first.
type VerificationDue struct {
	// Overdue were due before today.
	Overdue []VerificationSchedule `json:"overdue"`
	// DueSoon fall due today or within 7 days.
	DueSoon []VerificationSchedule `json:"due_soon"`
}

// VerificationTestCreate records a restore test.
type VerificationTestCreate struct {
	JobID  string           `json:"job_id" required:"true"`
	CopyID string           `json:"copy_id"`
	Type   store.TestType   `json:"test_type" required:"true"`
	Result store.TestResult `json:"result" required:"true"`
	// TestedAt defaults to now and must not be in the future.
	TestedAt *string `json:"tested_at" format:"date-time"`
	// TesterID defaults to the caller.
	TesterID        string `json:"tester_id"`
	RestoreTarget   string `json:"restore_target"`
	DurationSeconds int64  `json:"duration_seconds"`
	FilesChecked    int64  `json:"files_checked"`
	FilesFailed     int64  `json:"files_failed"`
	Issues          string `json:"issues"`
	Notes           string `json:"notes"`
}

// VerificationScheduleCreate adds a job's active schedule.
type VerificationScheduleCreate struct {
	JobID     string          `json:"job_id" required:"true"`
	Frequency store.Frequency `json:"frequency" required:"true"`
	TestType  store.TestType  `json:"test_type" required:"true"`
	// NextDueOn defaults to the frequency after the job's latest test, or
	// after today.
	NextDueOn  *string `json:"next_due_on" format:"date"`
	AssigneeID string  `json:"assignee_id"`
}

// VerificationSchedulePatch changes a schedule; absent fields stay.
type VerificationSchedulePatch struct {
	Frequency *store.Frequency `json:"frequency"`
	TestType  *store.TestType  `json:"test_type"`
	NextDueOn *string          `json:"next_due_on" format:"date"`
	// AssigneeID "" removes the assignee.
	AssigneeID *string `json:"assignee_id"`
	Active     *bool   `json:"active"`
}

func (a *API) verificationRoutes() []*route {
	return []*route{
		{
			method: "GET", path: "/api/v1/verification/tests", perm: backupmgmt.PermRead, resource: "verification_test", tag: "verification",
			summary: "List restore tests, newest first",
			resp:    List[VerificationTest]{}, status: http.StatusOK,
			query: append([]queryParam{
				{name: "job_id", typ: "string", desc: "only tests of this job"},
				{name: "result", typ: "string", desc: "only tests with this result", enum: enumOf[store.TestResult]()},
				{name: "from", typ: "date-time", desc: "only tests at or after this time"},
				{name: "to", typ: "date-time", desc: "only tests before this time"},
			}, pageParams...),
			h: a.listVerificationTests,
		},
		{
			method: "POST", path: "/api/v1/verification/tests", perm: backupmgmt.PermVerificationManage, resource: "verification_test", tag: "verification",
			summary: "Record a restore test: advances the job's schedule, raises or resolves verification alerts, re-evaluates compliance",
			body:    VerificationTestCreate{}, resp: VerificationTest{}, status: http.StatusCreated,
			h: a.recordVerificationTest,
		},
		{
			method: "GET", path: "/api/v1/verification/tests/{id}", perm: backupmgmt.PermRead, resource: "verification_test", tag: "verification",
			summary: "Get a restore test",
			resp:    VerificationTest{}, status: http.StatusOK,
			h: getByID(a.svc.Verification().GetTest, verificationTestView),
		},
		{
			// Tests are evidence: deleting one is the admin's "delete" row of
			// the matrix, as the domain expects.
			method: "DELETE", path: "/api/v1/verification/tests/{id}", perm: backupmgmt.PermDelete, resource: "verification_test", tag: "verification",
			summary: "Delete a restore test; compliance and alerts follow the job's latest test",
			status:  http.StatusNoContent,
			h:       deleteByID(a.svc.Verification().DeleteTest),
		},
		{
			method: "GET", path: "/api/v1/verification/schedules", perm: backupmgmt.PermRead, resource: "verification_schedule", tag: "verification",
			summary: "List verification schedules, soonest due first",
			resp:    List[VerificationSchedule]{}, status: http.StatusOK,
			query: append([]queryParam{
				{name: "job_id", typ: "string", desc: "only schedules of this job"},
				{name: "active", typ: "boolean", desc: "only active (true) or retired (false) schedules"},
				{name: "due_before", typ: "date", desc: "only schedules due before this date"},
			}, pageParams...),
			h: a.listVerificationSchedules,
		},
		{
			method: "POST", path: "/api/v1/verification/schedules", perm: backupmgmt.PermVerificationManage, resource: "verification_schedule", tag: "verification",
			summary: "Add a job's active verification schedule (one per job)",
			body:    VerificationScheduleCreate{}, resp: VerificationSchedule{}, status: http.StatusCreated,
			h: a.createVerificationSchedule,
		},
		{
			method: "GET", path: "/api/v1/verification/schedules/{id}", perm: backupmgmt.PermRead, resource: "verification_schedule", tag: "verification",
			summary: "Get a verification schedule",
			resp:    VerificationSchedule{}, status: http.StatusOK,
			h: getByID(a.svc.Verification().GetSchedule, verificationScheduleView),
		},
		{
			method: "PATCH", path: "/api/v1/verification/schedules/{id}", perm: backupmgmt.PermVerificationManage, resource: "verification_schedule", tag: "verification",
			summary: "Change a verification schedule (active false retires it)",
			body:    VerificationSchedulePatch{}, resp: VerificationSchedule{}, status: http.StatusOK,
			h: a.patchVerificationSchedule,
		},
		{
			method: "DELETE", path: "/api/v1/verification/schedules/{id}", perm: backupmgmt.PermDelete, resource: "verification_schedule", tag: "verification",
			summary: "Delete a verification schedule",
			status:  http.StatusNoContent,
			h:       deleteByID(a.svc.Verification().DeleteSchedule),
		},
		{
			method: "GET", path: "/api/v1/verification/due", perm: backupmgmt.PermRead, tag: "verification",
			summary: "The active schedules that are overdue or due within 7 days",
			resp:    VerificationDue{}, status: http.StatusOK,
			h: func(w http.ResponseWriter, r *http.Request) error {
				d, err := a.svc.Verification().Due(r.Context())
				if err != nil {
					return err
				}
				writeJSON(w, http.StatusOK, VerificationDue{
					Overdue: sliceOf(d.Overdue, verificationScheduleView),
					DueSoon: sliceOf(d.DueSoon, verificationScheduleView),
				})
				return nil
			},
		},
	}
}

func (a *API) listVerificationTests(w http.ResponseWriter, r *http.Request) error {
	q := newQuery(r)
	p := store.ListVerificationTestsParams{
		PageParams: q.page(),
		JobID:      q.str("job_id"),
		Result:     store.TestResult(q.str("result")),
		Tested:     store.TimeRange{From: deref(q.time("from")), To: deref(q.time("to"))},
	}
	if err := q.err(); err != nil {
		return err
	}
	page, err := a.svc.Verification().ListTests(r.Context(), p)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, listOf(page, verificationTestView))
	return nil
}

func (a *API) recordVerificationTest(w http.ResponseWriter, r *http.Request) error {
	var in VerificationTestCreate
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	var p problems
	tested := p.parseTime("tested_at", in.TestedAt)
	if err := p.err(); err != nil {
		return err
	}
	t, err := a.svc.Verification().RecordTest(r.Context(), backupmgmt.TestParams{
		JobID: in.JobID, CopyID: in.CopyID, TestType: in.Type, Result: in.Result, TestedAt: deref(tested),
		TesterID: in.TesterID, RestoreTarget: in.RestoreTarget, Duration: duration(in.DurationSeconds),
		FilesChecked: in.FilesChecked, FilesFailed: in.FilesFailed, Issues: in.Issues, Notes: in.Notes,
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, verificationTestView(t))
	return nil
}

func (a *API) listVerificationSchedules(w http.ResponseWriter, r *http.Request) error {
	q := newQuery(r)
	p := store.ListVerificationSchedulesParams{
		PageParams: q.page(),
		JobID:      q.str("job_id"),
		Active:     q.boolean("active"),
		DueBefore:  datePtr(q.date("due_before")),
	}
	if err := q.err(); err != nil {
		return err
	}
	page, err := a.svc.Verification().ListSchedules(r.Context(), p)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, listOf(page, verificationScheduleView))
	return nil
}

func (a *API) createVerificationSchedule(w http.ResponseWriter, r *http.Request) error {
	var in VerificationScheduleCreate
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	var p problems
	next := p.parseDate("next_due_on", in.NextDueOn)
	if err := p.err(); err != nil {
		return err
	}
	s, err := a.svc.Verification().CreateSchedule(r.Context(), backupmgmt.ScheduleParams{
		JobID: in.JobID, Frequency: in.Frequency, TestType: in.TestType, NextDueOn: deref(next), AssigneeID: in.AssigneeID,
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, verificationScheduleView(s))
	return nil
}

func (a *API) patchVerificationSchedule(w http.ResponseWriter, r *http.Request) error {
	var in VerificationSchedulePatch
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	var p problems
	next := p.parseDate("next_due_on", in.NextDueOn)
	if err := p.err(); err != nil {
		return err
	}
	s, err := a.svc.Verification().UpdateSchedule(r.Context(), pathID(r, "id"), backupmgmt.ScheduleUpdate{
		Frequency: in.Frequency, TestType: in.TestType, NextDueOn: next, AssigneeID: in.AssigneeID, Active: in.Active,
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, verificationScheduleView(s))
	return nil
}
