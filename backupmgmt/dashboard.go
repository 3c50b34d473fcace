package backupmgmt

import (
	"context"
	"fmt"
	"time"

	"github.com/custos-dev/custos/store"
)

// Dashboard reads the figures of the dashboard's front page.
type Dashboard Service

// Dashboard gives the dashboard operations.
func (s *Service) Dashboard() *Dashboard { return (*Dashboard)(s) }

// Dashboard windows.
const (
	// DashboardTrendDays is how many UTC days the summary's trend covers,
	// today included.
	DashboardTrendDays = 7
	// DashboardRecentWindow is how far back the summary counts executions.
	DashboardRecentWindow = 24 * time.Hour
	// DashboardDueSoonDays is how many days ahead a verification counts as
	// due soon (DESIGN §4.4).
	DashboardDueSoonDays = 7
)

// DashboardSummary is the dashboard's front page. Every map holds every
// value of its key type, zero when nothing has it.
type DashboardSummary struct {
	// At is when the figures were read.
	At time.Time
	// Jobs counts every job per state, paused ones under paused whatever
	// their state; JobsTotal adds them up.
	Jobs      map[store.JobState]int
	JobsTotal int
	// Compliance counts the latest job and asset states, with the job
	// compliance rate.
	Compliance ComplianceSummary
	// Executions counts the executions started in the last
	// DashboardRecentWindow (24 h), per status.
	Executions map[store.ExecutionStatus]int64
	// Alerts counts the unresolved (open and acknowledged) alerts per
	// severity; AlertsUnacknowledged the open ones alone.
	Alerts               map[store.Severity]int
	AlertsUnacknowledged map[store.Severity]int
	// VerificationOverdue counts active verification schedules due before
	// today (in Config.Location); VerificationDueSoon those due today or in
	// the next DashboardDueSoonDays days.
	VerificationOverdue int
	VerificationDueSoon int
	// Media counts offline media per status.
	Media map[store.MediaStatus]int
	// Trend is the last DashboardTrendDays UTC days from the daily rollups,
	// oldest first, one per day: as fresh as the last rollup tick.
	Trend []DashboardDay
}

// DashboardDay is one day of the dashboard's trend.
type DashboardDay struct {
	Day store.Date
	// Runs counts finished runs (success, warning, failed, missed;
	// canceled left out), Successes the success and warning ones.
	Runs      int64
	Successes int64
	// SuccessRate is Successes / Runs; nil on a day without runs.
	SuccessRate *float64
	// ComplianceRate is the day's job compliance rate (see ComplianceRate);
	// nil when no job was evaluated.
	ComplianceRate *float64
	BytesWritten   int64
}

// Summary reads the dashboard's figures in 2 queries when the store has
// the store.DashboardCounter capability (bunstore does): every count in one
// statement, and the trend from the daily rollups in another. A store
// without it (a decorator that does not forward it, another adapter) gets
// the same figures from the per-aggregate count methods: 7 queries plus one
// per LimitMax overdue or due-soon verification schedules.
func (d *Dashboard) Summary(ctx context.Context) (*DashboardSummary, error) {
	s := (*Service)(d)
	now := s.Now()
	today := s.Today()
	p := store.DashboardCountsParams{
		// A whole minute, so that a cached count serves the requests of a
		// minute instead of none: the window is 24 h plus under a minute.
		Since:     now.Truncate(time.Minute).Add(-DashboardRecentWindow),
		Today:     today,
		DueSoonBy: today.AddDays(DashboardDueSoonDays),
	}
	var (
		counts *store.DashboardCounts
		err    error
	)
	if dc, ok := s.store.(store.DashboardCounter); ok {
		counts, err = dc.DashboardCounts(ctx, p)
	} else {
		counts, err = s.dashboardCountsByPart(ctx, p)
	}
	if err != nil {
		return nil, fmt.Errorf("backupmgmt: dashboard counts: %w", err)
	}

	lastDay := store.DateOf(now, nil)
	firstDay := lastDay.AddDays(-(DashboardTrendDays - 1))
	rollups, err := s.store.Rollups().List(ctx, firstDay, lastDay)
	if err != nil {
		return nil, fmt.Errorf("backupmgmt: dashboard trend: %w", err)
	}

	out := &DashboardSummary{
		At:                   now,
		Jobs:                 map[store.JobState]int{},
		Compliance:           complianceSummaryOf(counts.JobCompliance, counts.AssetCompliance),
		Executions:           map[store.ExecutionStatus]int64{},
		Alerts:               map[store.Severity]int{},
		AlertsUnacknowledged: map[store.Severity]int{},
		VerificationOverdue:  counts.VerificationOverdue,
		VerificationDueSoon:  counts.VerificationDueSoon,
		Media:                map[store.MediaStatus]int{},
	}
	for _, st := range store.JobStateValues() {
		out.Jobs[st] = counts.Jobs[st]
		out.JobsTotal += counts.Jobs[st]
	}
	for _, st := range store.ExecutionStatusValues() {
		out.Executions[st] = counts.Executions[st]
	}
	for _, sev := range store.SeverityValues() {
		out.AlertsUnacknowledged[sev] = counts.Alerts[store.AlertOpen][sev]
		out.Alerts[sev] = counts.Alerts[store.AlertOpen][sev] + counts.Alerts[store.AlertAcknowledged][sev]
	}
	for _, st := range store.MediaStatusValues() {
		out.Media[st] = counts.Media[st]
	}
	for _, r := range rollupFill(rollups, firstDay, lastDay) {
		day := DashboardDay{
			Day:          r.Day,
			Runs:         r.ExecutionsSuccess + r.ExecutionsWarning + r.ExecutionsFailed + r.ExecutionsMissed,
			Successes:    r.ExecutionsSuccess + r.ExecutionsWarning,
			BytesWritten: r.BytesWritten,
		}
		if rate, ok := RollupSuccessRate(r); ok {
			day.SuccessRate = &rate
		}
		if rate, ok := RollupComplianceRate(r); ok {
			day.ComplianceRate = &rate
		}
		out.Trend = append(out.Trend, day)
	}
	return out, nil
}

// dashboardCountsByPart reads the dashboard counts through the
// per-aggregate count methods, for stores without store.DashboardCounter.
func (s *Service) dashboardCountsByPart(ctx context.Context, p store.DashboardCountsParams) (*store.DashboardCounts, error) {
	out := &store.DashboardCounts{}
	var err error
	if out.Jobs, err = s.store.Jobs().CountByState(ctx); err != nil {
		return nil, err
	}
	if out.JobCompliance, err = s.store.Compliance().CountByStatus(ctx, store.SubjectJob); err != nil {
		return nil, err
	}
	if out.AssetCompliance, err = s.store.Compliance().CountByStatus(ctx, store.SubjectAsset); err != nil {
		return nil, err
	}
	if out.Executions, err = s.store.Executions().CountByStatus(ctx, "", store.TimeRange{From: p.Since}); err != nil {
		return nil, err
	}
	if out.Alerts, err = s.store.Alerts().CountUnresolved(ctx); err != nil {
		return nil, err
	}
	if out.Media, err = s.store.Media().CountByStatus(ctx); err != nil {
		return nil, err
	}
	if out.VerificationOverdue, err = s.dashboardCountDue(ctx, p.Today); err != nil {
		return nil, err
	}
	if !p.DueSoonBy.Before(p.Today) {
		byEnd, err := s.dashboardCountDue(ctx, p.DueSoonBy.AddDays(1))
		if err != nil {
			return nil, err
		}
		out.VerificationDueSoon = byEnd - out.VerificationOverdue
	}
	return out, nil
}

// dashboardCountDue counts the active verification schedules due before
// day, a page of LimitMax at a time.
func (s *Service) dashboardCountDue(ctx context.Context, day store.Date) (int, error) {
	active := true
	p := store.ListVerificationSchedulesParams{Active: &active, DueBefore: &day}
	p.Limit = store.LimitMax
	n := 0
	for {
		page, err := s.store.VerificationSchedules().List(ctx, p)
		if err != nil {
			return 0, err
		}
		n += len(page.Items)
		if page.NextCursor == "" {
			return n, nil
		}
		p.Cursor = page.NextCursor
	}
}
