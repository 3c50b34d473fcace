package httpapi

import (
	"net/http"
	"time"

	"github.com/custos-dev/custos/backupmgmt"
	"github.com/custos-dev/custos/store"
)

// DashboardSummary is the dashboard's front page. Every map holds every
// value of its key type, zero when nothing has it.
type DashboardSummary struct {
	// At is when the figures were read.
	At time.Time `json:"at"`
	// Jobs counts jobs per state, paused ones under paused.
	Jobs       map[store.JobState]int `json:"jobs"`
	JobsTotal  int                    `json:"jobs_total"`
	Compliance DashboardCompliance    `json:"compliance"`
	// Executions counts the runs started in the last 24 hours per status.
	Executions map[store.ExecutionStatus]int64 `json:"executions"`
	// Alerts counts unresolved alerts per severity, AlertsUnacknowledged
	// the open ones alone.
	Alerts               map[store.Severity]int    `json:"alerts"`
	AlertsUnacknowledged map[store.Severity]int    `json:"alerts_unacknowledged"`
	VerificationOverdue  int                       `json:"verification_overdue"`
	VerificationDueSoon  int                       `json:"verification_due_soon"`
	Media                map[store.MediaStatus]int `json:"media"`
	// Trend is the last 7 UTC days, oldest first.
	Trend []DashboardDay `json:"trend"`
}

// DashboardCompliance counts the latest compliance states.
type DashboardCompliance struct {
	Jobs   map[store.ComplianceStatus]int `json:"jobs"`
	Assets map[store.ComplianceStatus]int `json:"assets"`
	// Rate is compliant jobs over evaluated jobs, 0 when none is evaluated.
	Rate float64 `json:"rate"`
}

// DashboardDay is one day of the dashboard's trend.
type DashboardDay struct {
	DayOn     store.Date `json:"day_on"`
	Runs      int64      `json:"runs"`
	Successes int64      `json:"successes"`
	// SuccessRate is absent on a day without runs, ComplianceRate on a day
	// without evaluated jobs.
	SuccessRate    *float64 `json:"success_rate,omitempty"`
	ComplianceRate *float64 `json:"compliance_rate,omitempty"`
	BytesWritten   int64    `json:"bytes_written"`
}

func dashboardDayView(d *backupmgmt.DashboardDay) DashboardDay {
	return DashboardDay{
		DayOn: d.Day, Runs: d.Runs, Successes: d.Successes, SuccessRate: d.SuccessRate,
		ComplianceRate: d.ComplianceRate, BytesWritten: d.BytesWritten,
	}
}

func dashboardView(s *backupmgmt.DashboardSummary) DashboardSummary {
	return DashboardSummary{
		At: utc(s.At), Jobs: s.Jobs, JobsTotal: s.JobsTotal,
		Compliance: DashboardCompliance{Jobs: s.Compliance.Jobs, Assets: s.Compliance.Assets, Rate: s.Compliance.Rate},
		Executions: s.Executions,
		Alerts:     s.Alerts, AlertsUnacknowledged: s.AlertsUnacknowledged,
		VerificationOverdue: s.VerificationOverdue, VerificationDueSoon: s.VerificationDueSoon,
		Media: s.Media, Trend: sliceOf(s.Trend, dashboardDayView),
	}
}

func (a *API) dashboardRoutes() []*route {
	return []*route{
		{
			method: "GET", path: "/api/v1/dashboard/summary", perm: backupmgmt.PermRead, tag: "dashboard",
			summary: "The dashboard's figures: jobs, compliance, recent runs, alerts, verification, media, 7-day trend",
			resp:    DashboardSummary{}, status: http.StatusOK,
			h: func(w http.ResponseWriter, r *http.Request) error {
				return a.memo.serve(w, a.memoKey(r, false), func() (any, error) {
					s, err := a.svc.Dashboard().Summary(r.Context())
					if err != nil {
						return nil, err
					}
					return dashboardView(s), nil
				})
			},
		},
	}
}
