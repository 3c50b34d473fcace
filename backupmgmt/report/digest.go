package report

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/custos-dev/custos/backupmgmt"
	"github.com/custos-dev/custos/store"
)

// DigestHour is the local hour (Options.Location) from which TickDigest
// sends the daily digest.
const DigestHour = 8

// TickDigest generates yesterday's daily report (HTML) once it is
// DigestHour or later in Options.Location and no digest of yesterday has
// been saved, and queues it to every active email channel.
// It reports whether it generated one; called again the same day it does
// nothing. Replicas that tick at the same moment may both generate one:
// run it on one process (the scheduler's).
func (g *Generator) TickDigest(ctx context.Context) (bool, error) {
	now := g.svc.Now()
	if now.In(g.opts.Location).Hour() < DigestHour {
		return false, nil
	}
	from, to := DefaultPeriod(store.ReportDaily, now, g.opts.Location)
	done, err := g.digestExists(ctx, from)
	if err != nil || done {
		return false, err
	}
	// The digest is the system's, whoever's context ticks it.
	ctx = backupmgmt.WithActor(ctx, backupmgmt.Actor{})
	doc, err := g.Build(ctx, store.ReportDaily, from, to)
	if err != nil {
		return false, err
	}
	content, err := Render(doc, store.FormatHTML, g.renderOptions()...)
	if err != nil {
		return false, err
	}
	r := &store.Report{
		Type: store.ReportDaily, Format: store.FormatHTML, PeriodFrom: doc.Header.Period.From, PeriodTo: doc.Header.Period.To,
		GeneratedAt: doc.Header.GeneratedAt, Content: content,
	}
	// The report and its mail commit together: a failed queue leaves no
	// digest behind, and the next tick makes it again.
	if _, err := g.svc.Reports().SaveDigest(ctx, r, doc.Header.Title, digestSummary(doc.Summary)); err != nil {
		return false, fmt.Errorf("report: save digest: %w", err)
	}
	return true, nil
}

// digestExists looks for the audit event of a digest of the period
// starting at from, among the events since from: only SaveDigest writes
// it, so a daily report made from the command line never stands in for
// the digest. The audit log is not cached, so a digest another replica
// has just sent is seen at once.
func (g *Generator) digestExists(ctx context.Context, from time.Time) (bool, error) {
	p := store.ListAuditParams{Action: backupmgmt.DigestAction, ResourceType: "report", At: store.TimeRange{From: from}}
	p.Limit = store.LimitMax
	for {
		page, err := g.svc.Store().Audit().List(ctx, p)
		if err != nil {
			return false, err
		}
		for _, e := range page.Items {
			var d struct {
				PeriodFrom time.Time `json:"period_from"`
			}
			if err := json.Unmarshal(e.Details, &d); err != nil {
				return false, fmt.Errorf("report: audit event %d: %w", e.Seq, err)
			}
			if d.PeriodFrom.Equal(from) {
				return true, nil
			}
		}
		if page.NextCursor == "" {
			return false, nil
		}
		p.Cursor = page.NextCursor
	}
}

// digestSummary is the few plain lines the digest's email carries.
func digestSummary(s *Summary) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Runs: %d, success rate %s\n", s.RunsTotal, pct(s.SuccessRate))
	fmt.Fprintf(&b, "Failed runs: %d, missed runs: %d\n", s.FailedRuns.Total, s.MissedRuns.Total)
	fmt.Fprintf(&b, "Unresolved alerts: %d\n", s.Alerts.Total)
	fmt.Fprintf(&b, "Job compliance rate: %s\n", pct(&s.Compliance.Rate))
	return b.String()
}
