package httpapi

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"time"

	"github.com/custos-dev/custos/backupmgmt"
	"github.com/custos-dev/custos/store"
)

// ComplianceReason explains one finding with its evidence.
type ComplianceReason struct {
	Rule     string `json:"rule" enum:"3copies,2media,1offsite,1offline,0errors,policy"`
	Severity string `json:"severity" enum:"error,warning"`
	Message  string `json:"message"`
}

// ComplianceRules says, per digit of 3-2-1-1-0, whether the evaluation
// found nothing against it: false means a reason of that rule is listed
// (an error for a required digit, a warning for a recommended one or a
// soft condition); a digit the policy does not require is true. Derived
// from the stored reasons, since the stored state keeps no rule table.
type ComplianceRules struct {
	Copies     bool `json:"3copies"`
	MediaTypes bool `json:"2media"`
	Offsite    bool `json:"1offsite"`
	Offline    bool `json:"1offline"`
	ZeroErrors bool `json:"0errors"`
}

// ComplianceState is the latest evaluation of a job or an asset.
type ComplianceState struct {
	SubjectType        store.SubjectType      `json:"subject_type"`
	SubjectID          string                 `json:"subject_id"`
	Status             store.ComplianceStatus `json:"status"`
	Copies             int                    `json:"copies" doc:"fresh backup copies"`
	MediaTypes         int                    `json:"media_types" doc:"distinct media types among them"`
	Offsite            bool                   `json:"offsite"`
	OfflineOrImmutable bool                   `json:"offline_or_immutable"`
	Verified           bool                   `json:"verified"`
	Rules              ComplianceRules        `json:"rules"`
	Score              int                    `json:"score"`
	Reasons            []ComplianceReason     `json:"reasons"`
	EvaluatedAt        *time.Time             `json:"evaluated_at,omitempty" doc:"absent for an inactive job, which is not evaluated"`
	ChangedAt          *time.Time             `json:"changed_at,omitempty"`
}

func reasonsView(rs []store.ComplianceReason) []ComplianceReason {
	out := make([]ComplianceReason, len(rs))
	for i, r := range rs {
		out[i] = ComplianceReason{Rule: r.Rule, Severity: r.Severity, Message: r.Message}
	}
	return out
}

func complianceStateView(s *store.ComplianceState) ComplianceState {
	found := func(rule string) bool {
		return !slices.ContainsFunc(s.Reasons, func(r store.ComplianceReason) bool { return r.Rule == rule })
	}
	ev, ch := utc(s.EvaluatedAt), utc(s.ChangedAt)
	return ComplianceState{
		SubjectType: s.SubjectType, SubjectID: s.SubjectID, Status: s.Status,
		Copies: s.Copies, MediaTypes: s.MediaTypes, Offsite: s.Offsite,
		OfflineOrImmutable: s.OfflineOrImmutable, Verified: s.Verified,
		Rules: ComplianceRules{
			Copies:     found(backupmgmt.ComplianceRuleCopies),
			MediaTypes: found(backupmgmt.ComplianceRuleMediaTypes),
			Offsite:    found(backupmgmt.ComplianceRuleOffsite),
			Offline:    found(backupmgmt.ComplianceRuleOffline),
			ZeroErrors: found(backupmgmt.ComplianceRuleZeroErrors),
		},
		Score: s.Score, Reasons: reasonsView(s.Reasons), EvaluatedAt: &ev, ChangedAt: &ch,
	}
}

// ComplianceChange is a status transition of a job or an asset.
type ComplianceChange struct {
	ID          string                 `json:"id"`
	SubjectType store.SubjectType      `json:"subject_type"`
	SubjectID   string                 `json:"subject_id"`
	From        store.ComplianceStatus `json:"from"`
	To          store.ComplianceStatus `json:"to"`
	At          time.Time              `json:"at"`
	Reasons     []ComplianceReason     `json:"reasons"`
}

func complianceChangeView(c *store.ComplianceChange) ComplianceChange {
	return ComplianceChange{
		ID: c.ID, SubjectType: c.SubjectType, SubjectID: c.SubjectID,
		From: c.From, To: c.To, At: utc(c.At), Reasons: reasonsView(c.Reasons),
	}
}

// ComplianceCounts counts subjects per compliance status.
type ComplianceCounts struct {
	Compliant    int `json:"compliant"`
	Warning      int `json:"warning"`
	NonCompliant int `json:"non_compliant"`
	Unknown      int `json:"unknown"`
}

func complianceCounts(m map[store.ComplianceStatus]int) ComplianceCounts {
	return ComplianceCounts{
		Compliant: m[store.ComplianceCompliant], Warning: m[store.ComplianceWarning],
		NonCompliant: m[store.ComplianceNonCompliant], Unknown: m[store.ComplianceUnknown],
	}
}

// ComplianceSummary counts the latest states of jobs and assets.
type ComplianceSummary struct {
	Jobs   ComplianceCounts `json:"jobs"`
	Assets ComplianceCounts `json:"assets"`
	// Rate is compliant jobs over evaluated ones (unknown left out), 0 to 1.
	Rate float64 `json:"rate" doc:"compliant jobs over evaluated jobs, 0 to 1"`
}

// ComplianceDay is one UTC day of the trend, from the daily rollups.
type ComplianceDay struct {
	Day                store.Date `json:"day_on"`
	ExecutionsSuccess  int64      `json:"executions_success"`
	ExecutionsWarning  int64      `json:"executions_warning"`
	ExecutionsFailed   int64      `json:"executions_failed"`
	ExecutionsCanceled int64      `json:"executions_canceled"`
	ExecutionsMissed   int64      `json:"executions_missed"`
	BytesWritten       int64      `json:"bytes_written"`
	JobsCompliant      int        `json:"jobs_compliant"`
	JobsWarning        int        `json:"jobs_warning"`
	JobsNonCompliant   int        `json:"jobs_non_compliant"`
	JobsUnknown        int        `json:"jobs_unknown"`
}

func complianceDayView(d *store.DailyRollup) ComplianceDay {
	return ComplianceDay{
		Day: d.Day, ExecutionsSuccess: d.ExecutionsSuccess, ExecutionsWarning: d.ExecutionsWarning,
		ExecutionsFailed: d.ExecutionsFailed, ExecutionsCanceled: d.ExecutionsCanceled,
		ExecutionsMissed: d.ExecutionsMissed, BytesWritten: d.BytesWritten,
		JobsCompliant: d.JobsCompliant, JobsWarning: d.JobsWarning,
		JobsNonCompliant: d.JobsNonCompliant, JobsUnknown: d.JobsUnknown,
	}
}

// ComplianceSweep is what POST /api/v1/compliance/sweep did.
type ComplianceSweep struct {
	Jobs    int `json:"jobs" doc:"jobs evaluated"`
	Assets  int `json:"assets" doc:"assets evaluated"`
	Changed int `json:"changed" doc:"subjects whose state changed"`
}

// complianceTrendDaysDefault is the trend's length when from_on is absent.
const complianceTrendDaysDefault = 30

func (a *API) complianceRoutes() []*route {
	return []*route{
		{
			method: "GET", path: "/api/v1/compliance/summary", perm: backupmgmt.PermRead, tag: "compliance",
			summary: "Count the latest compliance states of jobs and assets",
			resp:    ComplianceSummary{}, status: http.StatusOK,
			h: a.complianceSummary,
		},
		{
			method: "GET", path: "/api/v1/compliance/trend", perm: backupmgmt.PermRead, tag: "compliance",
			summary: "Daily runs and compliance counts from from_on to to_on (UTC days, inclusive; default the last 30 days)",
			resp:    List[ComplianceDay]{}, status: http.StatusOK,
			query: []queryParam{
				{name: "from_on", typ: "date", desc: "first day; defaults to 29 days before to_on"},
				{name: "to_on", typ: "date", desc: "last day; defaults to today (UTC)"},
			},
			h: a.complianceTrend,
		},
		{
			method: "GET", path: "/api/v1/compliance/states", perm: backupmgmt.PermRead, tag: "compliance",
			summary: "List the latest compliance states, ordered by subject",
			resp:    List[ComplianceState]{}, status: http.StatusOK,
			query: append([]queryParam{
				{name: "subject_type", enum: enumOf[store.SubjectType]()},
				{name: "status", enum: enumOf[store.ComplianceStatus]()},
			}, pageParams...),
			h: a.complianceStates,
		},
		{
			method: "GET", path: "/api/v1/compliance/history", perm: backupmgmt.PermRead, tag: "compliance",
			summary: "List compliance status transitions, newest first",
			resp:    List[ComplianceChange]{}, status: http.StatusOK,
			query: append([]queryParam{
				{name: "subject_type", enum: enumOf[store.SubjectType]()},
				{name: "subject_id", desc: "a job or asset ID"},
				{name: "from_at", typ: "date-time", desc: "transitions at or after this time"},
				{name: "to_at", typ: "date-time", desc: "transitions before this time"},
			}, pageParams...),
			h: a.complianceHistory,
		},
		{
			method: "POST", path: "/api/v1/compliance/sweep", perm: backupmgmt.PermAdmin, tag: "compliance",
			summary: "Re-evaluate every active job and every asset now",
			resp:    ComplianceSweep{}, status: http.StatusOK,
			h: a.complianceSweep,
		},
		{
			method: "GET", path: "/api/v1/jobs/{id}/compliance", perm: backupmgmt.PermRead, resource: "job", tag: "compliance",
			summary: "A job's 3-2-1-1-0 compliance: status, per-rule results, score and reasons",
			resp:    ComplianceState{}, status: http.StatusOK,
			h: a.jobCompliance,
		},
		{
			method: "GET", path: "/api/v1/assets/{id}/compliance", perm: backupmgmt.PermRead, resource: "asset", tag: "compliance",
			summary: "An asset's compliance over the union of its active jobs' copies",
			resp:    ComplianceState{}, status: http.StatusOK,
			h: a.assetCompliance,
		},
	}
}

func (a *API) complianceSummary(w http.ResponseWriter, r *http.Request) error {
	s, err := a.svc.Compliance().Summary(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, ComplianceSummary{
		Jobs: complianceCounts(s.Jobs), Assets: complianceCounts(s.Assets), Rate: s.Rate,
	})
	return nil
}

func (a *API) complianceTrend(w http.ResponseWriter, r *http.Request) error {
	q := newQuery(r)
	from, to := q.date("from_on"), q.date("to_on")
	if err := q.err(); err != nil {
		return err
	}
	if to.IsZero() {
		to = store.DateOf(a.svc.Now(), time.UTC)
	}
	if from.IsZero() {
		from = to.AddDays(-(complianceTrendDaysDefault - 1))
	}
	days, err := a.svc.Rollups().Trend(r.Context(), from, to)
	var ve *store.ValidationError
	if errors.As(err, &ve) {
		return renameFields(ve, map[string]string{"from": "from_on", "to": "to_on"})
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, List[ComplianceDay]{Items: sliceOf(days, complianceDayView)})
	return nil
}

func (a *API) complianceStates(w http.ResponseWriter, r *http.Request) error {
	q := newQuery(r)
	p := store.ListComplianceStatesParams{
		PageParams:  q.page(),
		SubjectType: store.SubjectType(q.str("subject_type")),
		Status:      store.ComplianceStatus(q.str("status")),
	}
	if err := q.err(); err != nil {
		return err
	}
	page, err := a.svc.Compliance().ListStates(r.Context(), p)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, listOf(page, complianceStateView))
	return nil
}

func (a *API) complianceHistory(w http.ResponseWriter, r *http.Request) error {
	q := newQuery(r)
	p := store.ListComplianceChangesParams{
		PageParams:  q.page(),
		SubjectType: store.SubjectType(q.str("subject_type")),
		SubjectID:   q.str("subject_id"),
	}
	p.At.From = deref(q.time("from_at"))
	p.At.To = deref(q.time("to_at"))
	if !p.At.From.IsZero() && !p.At.To.IsZero() && !p.At.From.Before(p.At.To) {
		q.fail("to_at", "must be after from_at")
	}
	if err := q.err(); err != nil {
		return err
	}
	page, err := a.svc.Compliance().History(r.Context(), p)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, listOf(page, complianceChangeView))
	return nil
}

func (a *API) complianceSweep(w http.ResponseWriter, r *http.Request) error {
	res, err := a.svc.Compliance().Sweep(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, ComplianceSweep{Jobs: res.Jobs, Assets: res.Assets, Changed: res.Changed})
	return nil
}

// jobCompliance answers the stored state; a job that has none yet (its
// state was never stored, or was removed) is evaluated now. An inactive job
// is not evaluated (the domain keeps no state for it): it is unknown.
func (a *API) jobCompliance(w http.ResponseWriter, r *http.Request) error {
	id := pathID(r, "id")
	st, err := a.stateOrEvaluate(r.Context(), store.SubjectJob, id, a.svc.Compliance().EvaluateJob)
	if err != nil {
		return err
	}
	if st == nil {
		writeJSON(w, http.StatusOK, ComplianceState{
			SubjectType: store.SubjectJob, SubjectID: id, Status: store.ComplianceUnknown,
			Rules: ComplianceRules{},
			Reasons: []ComplianceReason{{
				Rule: backupmgmt.ComplianceRulePolicy, Severity: "warning",
				Message: "the job is inactive: its compliance is not evaluated",
			}},
		})
		return nil
	}
	writeJSON(w, http.StatusOK, complianceStateView(st))
	return nil
}

func (a *API) assetCompliance(w http.ResponseWriter, r *http.Request) error {
	st, err := a.stateOrEvaluate(r.Context(), store.SubjectAsset, pathID(r, "id"), a.svc.Compliance().EvaluateAsset)
	if err != nil {
		return err
	}
	if st == nil { // the asset went between the two reads
		return store.ErrNotFound
	}
	writeJSON(w, http.StatusOK, complianceStateView(st))
	return nil
}

// stateOrEvaluate returns the stored state of a subject, evaluating it when
// there is none. A missing subject is store.ErrNotFound from evaluate.
func (a *API) stateOrEvaluate(ctx context.Context, typ store.SubjectType, id string,
	evaluate func(context.Context, string) (*store.ComplianceState, error),
) (*store.ComplianceState, error) {
	st, err := a.svc.Compliance().State(ctx, typ, id)
	if err == nil {
		return st, nil
	}
	if !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	return evaluate(ctx, id)
}
