package report

import (
	"time"

	"github.com/custos-dev/custos/store"
)

// Document is the data of one report, whatever its format. Each report type
// fills some of the sections; the others stay nil. Times are UTC.
type Document struct {
	Header       Header               `json:"header"`
	Summary      *Summary             `json:"summary,omitempty"`
	Compliance   *ComplianceSection   `json:"compliance,omitempty"`
	Verification *VerificationSection `json:"verification,omitempty"`
	Media        *MediaSection        `json:"media,omitempty"`
	Audit        *AuditSection        `json:"audit,omitempty"`
	// Controls are the ISO/IEC 27001:2022 controls of the iso27001 pack.
	Controls []Control `json:"controls,omitempty"`
}

// Header names a report and its period.
type Header struct {
	Type         store.ReportType `json:"type"`
	Title        string           `json:"title"`
	Organisation string           `json:"organisation,omitempty"`
	Period       Period           `json:"period"`
	GeneratedAt  time.Time        `json:"generated_at"`
}

// Period is the half-open interval [From, To) a report covers; Timezone is
// the zone its dates are shown in.
type Period struct {
	From     time.Time `json:"from"`
	To       time.Time `json:"to"`
	Timezone string    `json:"timezone"`
}

// Count is one value of a breakdown and how often it occurs.
type Count struct {
	Key   string `json:"key"`
	Count int64  `json:"count"`
}

// List is a capped list of rows: Total counts every row that matched (up to
// the scan bound; TotalExact is false past it), NotShown those cut.
type List[T any] struct {
	Items      []T  `json:"items"`
	Total      int  `json:"total"`
	TotalExact bool `json:"total_exact"`
	NotShown   int  `json:"not_shown"`
}

// Summary is the period summary of the daily, weekly and monthly reports.
type Summary struct {
	Jobs      JobCounts `json:"jobs"`
	Runs      []Count   `json:"runs_by_status"`
	RunsTotal int64     `json:"runs_total"`
	// SuccessRate is success and warning runs over finished ones (success,
	// warning, failed, missed; canceled left out), as in the SLA; nil
	// without runs.
	SuccessRate  *float64         `json:"success_rate"`
	BytesWritten int64            `json:"bytes_written"`
	FailedRuns   List[RunRow]     `json:"failed_runs"`
	MissedRuns   List[RunRow]     `json:"missed_runs"`
	Alerts       AlertCounts      `json:"alerts"`
	OpenAlerts   List[AlertRow]   `json:"open_alerts"`
	Compliance   ComplianceCounts `json:"compliance"`
	// Trend is one row per UTC day of the period, from the daily rollups.
	Trend []TrendDay `json:"trend"`
}

// JobCounts counts jobs now.
type JobCounts struct {
	Total   int     `json:"total"`
	ByState []Count `json:"by_state"`
}

// RunRow is one execution.
type RunRow struct {
	JobID      string                `json:"job_id"`
	JobName    string                `json:"job_name"`
	Status     store.ExecutionStatus `json:"status"`
	StartedAt  time.Time             `json:"started_at"`
	FinishedAt *time.Time            `json:"finished_at"`
	Errors     int64                 `json:"errors"`
	Message    string                `json:"message"`
}

// AlertCounts counts the unresolved alerts now, per severity.
type AlertCounts struct {
	Open         []Count `json:"open"`
	Acknowledged []Count `json:"acknowledged"`
	Total        int     `json:"total"`
}

// AlertRow is one unresolved alert.
type AlertRow struct {
	ID          string           `json:"id"`
	Type        store.AlertType  `json:"type"`
	Severity    store.Severity   `json:"severity"`
	State       store.AlertState `json:"state"`
	Title       string           `json:"title"`
	FirstSeenAt time.Time        `json:"first_seen_at"`
	LastSeenAt  time.Time        `json:"last_seen_at"`
	Occurrences int              `json:"occurrences"`
}

// ComplianceCounts are the latest compliance states counted, as
// Compliance().Summary reports them.
type ComplianceCounts struct {
	Jobs   []Count `json:"jobs"`
	Assets []Count `json:"assets"`
	Rate   float64 `json:"rate"`
}

// TrendDay is one UTC day of the trend.
type TrendDay struct {
	Day            store.Date `json:"day"`
	Runs           int64      `json:"runs"`
	Successes      int64      `json:"successes"`
	Failed         int64      `json:"failed"`
	Missed         int64      `json:"missed"`
	SuccessRate    *float64   `json:"success_rate"`
	ComplianceRate *float64   `json:"compliance_rate"`
	BytesWritten   int64      `json:"bytes_written"`
}

// ComplianceSection is the 3-2-1-1-0 report: every job and asset with each
// rule, and the status changes of the period.
type ComplianceSection struct {
	Counts   ComplianceCounts        `json:"counts"`
	Subjects List[SubjectCompliance] `json:"subjects"`
	Changes  List[ComplianceChange]  `json:"changes"`
}

// SubjectCompliance is one job's or asset's latest state.
type SubjectCompliance struct {
	SubjectType store.SubjectType      `json:"subject_type"`
	SubjectID   string                 `json:"subject_id"`
	Name        string                 `json:"name"`
	Status      store.ComplianceStatus `json:"status"`
	Score       int                    `json:"score"`
	Rules       []RuleResult           `json:"rules"`
	// Other holds the reasons outside the five rules (encryption,
	// retention, an invalid policy).
	Other       []store.ComplianceReason `json:"other_reasons"`
	EvaluatedAt time.Time                `json:"evaluated_at"`
}

// RuleResult is one digit of 3-2-1-1-0: "pass", "warning" (only soft
// findings) or "fail", the evidence the state holds, and the reasons.
type RuleResult struct {
	Rule     string   `json:"rule"`
	Result   string   `json:"result"`
	Evidence string   `json:"evidence"`
	Reasons  []string `json:"reasons"`
}

// ComplianceChange is one status transition.
type ComplianceChange struct {
	SubjectType store.SubjectType      `json:"subject_type"`
	SubjectID   string                 `json:"subject_id"`
	Name        string                 `json:"name"`
	From        store.ComplianceStatus `json:"from"`
	To          store.ComplianceStatus `json:"to"`
	At          time.Time              `json:"at"`
	Reasons     []string               `json:"reasons"`
}

// VerificationSection is the restore-test report.
type VerificationSection struct {
	ByResult []Count `json:"by_result"`
	// WithRTO counts the tests of jobs with an RTO target; WithinRTO those
	// whose measured duration met it.
	WithRTO   int               `json:"with_rto"`
	WithinRTO int               `json:"within_rto"`
	Tests     List[TestRow]     `json:"tests"`
	Overdue   List[ScheduleRow] `json:"overdue_schedules"`
	DueSoon   int               `json:"due_soon"`
}

// TestRow is one restore test. Duration is the measured RTO.
type TestRow struct {
	JobID        string           `json:"job_id"`
	JobName      string           `json:"job_name"`
	TestType     store.TestType   `json:"test_type"`
	Result       store.TestResult `json:"result"`
	TestedAt     time.Time        `json:"tested_at"`
	DurationSec  int64            `json:"duration_seconds"`
	RTOTargetSec int64            `json:"rto_target_seconds"`
	// WithinRTO is nil when the job has no RTO target.
	WithinRTO    *bool  `json:"within_rto"`
	FilesChecked int64  `json:"files_checked"`
	FilesFailed  int64  `json:"files_failed"`
	Issues       string `json:"issues"`
}

// ScheduleRow is one verification schedule.
type ScheduleRow struct {
	JobID     string          `json:"job_id"`
	JobName   string          `json:"job_name"`
	Frequency store.Frequency `json:"frequency"`
	TestType  store.TestType  `json:"test_type"`
	NextDueOn store.Date      `json:"next_due_on"`
}

// MediaSection is the offline-media report.
type MediaSection struct {
	ByStatus   []Count             `json:"by_status"`
	ByLocation []Count             `json:"by_location"`
	Inventory  List[MediaRow]      `json:"inventory"`
	Lendings   List[LendingRow]    `json:"open_lendings"`
	Overdue    int                 `json:"overdue_lendings"`
	Events     List[MediaEventRow] `json:"events"`
	Rotations  List[RotationRow]   `json:"rotations_due"`
}

// MediaRow is one medium.
type MediaRow struct {
	ID            string                 `json:"id"`
	Label         string                 `json:"label"`
	MediaType     store.OfflineMediaType `json:"media_type"`
	Status        store.MediaStatus      `json:"status"`
	Location      string                 `json:"location"`
	LastWrittenAt *time.Time             `json:"last_written_at"`
}

// LendingRow is one open lending.
type LendingRow struct {
	MediaLabel string     `json:"media_label"`
	Borrower   string     `json:"borrower"`
	Purpose    string     `json:"purpose"`
	LentAt     time.Time  `json:"lent_at"`
	DueOn      store.Date `json:"due_on"`
	Overdue    bool       `json:"overdue"`
}

// MediaEventRow is one chain-of-custody event.
type MediaEventRow struct {
	MediaLabel string               `json:"media_label"`
	Kind       store.MediaEventKind `json:"kind"`
	From       string               `json:"from_location"`
	To         string               `json:"to_location"`
	Actor      string               `json:"actor"`
	At         time.Time            `json:"at"`
	Note       string               `json:"note"`
}

// RotationRow is one active rotation plan due by the end of the period.
type RotationRow struct {
	Name           string               `json:"name"`
	Scheme         store.RotationScheme `json:"scheme"`
	Cycle          store.RotationCycle  `json:"cycle"`
	NextRotationOn *store.Date          `json:"next_rotation_on"`
	Media          int                  `json:"media"`
}

// AuditSection is the audit-log report.
type AuditSection struct {
	// Events counts the events of the period; EventsExact is false when
	// counting stopped at the scan bound.
	Events      int            `json:"events"`
	EventsExact bool           `json:"events_exact"`
	ByUser      []Count        `json:"by_user"`
	ByAction    []Count        `json:"by_action"`
	ByResult    []Count        `json:"by_result"`
	Denied      List[AuditRow] `json:"denied_or_failed"`
	Chain       ChainResult    `json:"chain"`
}

// AuditRow is one audit event.
type AuditRow struct {
	Seq          int64             `json:"seq"`
	At           time.Time         `json:"at"`
	Actor        string            `json:"actor"`
	Action       string            `json:"action"`
	ResourceType string            `json:"resource_type"`
	ResourceID   string            `json:"resource_id"`
	Result       store.AuditResult `json:"result"`
	IP           string            `json:"ip"`
}

// ChainResult is the audit hash chain's verification, as Audit().Verify
// reports it.
type ChainResult struct {
	OK       bool   `json:"ok"`
	Checked  int64  `json:"checked"`
	FirstSeq int64  `json:"first_seq"`
	LastSeq  int64  `json:"last_seq"`
	BrokenAt int64  `json:"broken_at,omitempty"`
	Reason   string `json:"reason,omitempty"`
	Anchor   string `json:"anchor,omitempty"`
}

// ControlStatus is how far the records evidence an ISO control.
type ControlStatus string

// ControlStatus values.
const (
	ControlMet     ControlStatus = "met"
	ControlPartial ControlStatus = "partially_met"
	ControlNotMet  ControlStatus = "not_met"
)

// Control is one ISO/IEC 27001:2022 Annex A control with its evidence.
type Control struct {
	ID      string        `json:"id"`
	Name    string        `json:"name"`
	Status  ControlStatus `json:"status"`
	Reasons []string      `json:"reasons"`
	Figures []Figure      `json:"figures"`
	// Records names the sections of this document holding the records.
	Records []string `json:"records"`
}

// Figure is one named value.
type Figure struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}
