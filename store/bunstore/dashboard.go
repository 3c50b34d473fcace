package bunstore

import (
	"context"
	"strings"

	"github.com/uptrace/bun"

	"github.com/custos-dev/custos/store"
)

var _ store.DashboardCounter = (*Store)(nil)

// dashboardRow is one group of the dashboard statement: which part it
// counts, up to two keys, and the count.
type dashboardRow struct {
	Part string `bun:"part"`
	K1   string `bun:"k1"`
	K2   string `bun:"k2"`
	N    int64  `bun:"n"`
}

// DashboardCounts implements store.DashboardCounter in one statement: a
// UNION ALL of grouped counts over jobs, compliance states, recent
// executions (through the started_at indexes), unresolved alerts (the
// state index), active verification schedules (the active, next_due_on
// index) and media. Every part is a plain GROUP BY or COUNT, so the same
// text runs on SQLite, PostgreSQL and MySQL/MariaDB. It reads through the
// read pool, so on SQLite it does not queue behind writes.
func (s *Store) DashboardCounts(ctx context.Context, p store.DashboardCountsParams) (*store.DashboardCounts, error) {
	if p.Today.IsZero() {
		return nil, &store.ValidationError{Fields: map[string]string{"today": "required"}}
	}
	var (
		parts []string
		args  []any
	)
	add := func(sql string, a ...any) {
		parts = append(parts, sql)
		args = append(args, a...)
	}
	add("SELECT 'jobs' AS part, state AS k1, CASE WHEN paused THEN 'paused' ELSE '' END AS k2, COUNT(*) AS n" +
		" FROM jobs GROUP BY state, paused")
	add("SELECT 'compliance', subject_type, status, COUNT(*) FROM compliance_states GROUP BY subject_type, status")
	if p.Since.IsZero() {
		add("SELECT 'executions', status, '', COUNT(*) FROM executions GROUP BY status")
	} else {
		// One range of the (status, started_at) index per status: grouped
		// in one query, the planner walks the whole index instead.
		since := store.NormalizeTime(p.Since)
		// The status is a literal (an enum value of ours, no quote in it):
		// a bare parameter in a SELECT list has no type on PostgreSQL.
		for _, st := range store.ExecutionStatusValues() {
			add("SELECT 'executions', '"+string(st)+"', '', COUNT(*) FROM executions WHERE status = ? AND started_at >= ?", st, since)
		}
	}
	add("SELECT 'alerts', state, severity, COUNT(*) FROM alerts WHERE state IN (?) GROUP BY state, severity",
		bun.List(unresolvedStates))
	add("SELECT 'verification_overdue', '', '', COUNT(*) FROM verification_schedules"+
		" WHERE active = ? AND next_due_on < ?", true, p.Today.Time())
	if !p.DueSoonBy.Before(p.Today) {
		add("SELECT 'verification_due_soon', '', '', COUNT(*) FROM verification_schedules"+
			" WHERE active = ? AND next_due_on >= ? AND next_due_on <= ?", true, p.Today.Time(), p.DueSoonBy.Time())
	}
	add("SELECT 'media', status, '', COUNT(*) FROM media GROUP BY status")

	var rows []dashboardRow
	if err := s.conn.r.NewRaw(strings.Join(parts, " UNION ALL "), args...).Scan(ctx, &rows); err != nil {
		return nil, mapErr(err)
	}
	out := &store.DashboardCounts{
		Jobs:            map[store.JobState]int{},
		JobCompliance:   map[store.ComplianceStatus]int{},
		AssetCompliance: map[store.ComplianceStatus]int{},
		Executions:      map[store.ExecutionStatus]int64{},
		Alerts:          map[store.AlertState]map[store.Severity]int{},
		Media:           map[store.MediaStatus]int{},
	}
	for _, r := range rows {
		if r.N == 0 {
			continue
		}
		n := int(r.N)
		switch r.Part {
		case "jobs":
			st := store.JobState(r.K1)
			if r.K2 == "paused" {
				st = store.JobStatePaused
			}
			out.Jobs[st] += n
		case "compliance":
			if store.SubjectType(r.K1) == store.SubjectAsset {
				out.AssetCompliance[store.ComplianceStatus(r.K2)] += n
			} else {
				out.JobCompliance[store.ComplianceStatus(r.K2)] += n
			}
		case "executions":
			out.Executions[store.ExecutionStatus(r.K1)] += r.N
		case "alerts":
			st := store.AlertState(r.K1)
			if out.Alerts[st] == nil {
				out.Alerts[st] = map[store.Severity]int{}
			}
			out.Alerts[st][store.Severity(r.K2)] += n
		case "verification_overdue":
			out.VerificationOverdue = n
		case "verification_due_soon":
			out.VerificationDueSoon = n
		case "media":
			out.Media[store.MediaStatus(r.K1)] += n
		}
	}
	return out, nil
}
