package report

import (
	"context"
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
// DigestHour or later in Options.Location and no system-generated daily
// report of yesterday exists, and queues it to every active email channel.
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
	if err := g.svc.Reports().Save(ctx, r); err != nil {
		return false, err
	}
	if _, err := g.svc.Channels().QueueReport(ctx, r, doc.Header.Title, digestSummary(doc.Summary), store.ChannelEmail); err != nil {
		// Without its mail the digest is not done: the next tick makes it
		// again.
		if derr := g.svc.Reports().Delete(ctx, r.ID); derr != nil {
			return false, fmt.Errorf("report: queue digest: %w (and removing the report: %v)", err, derr)
		}
		return false, fmt.Errorf("report: queue digest: %w", err)
	}
	return true, nil
}

// digestExists looks for a daily report of the period starting at from
// that the system generated at or after the digest hour, among the reports
// generated since from. It reads in a transaction, past the read-through
// caches, so a digest another replica has just sent is seen at once. A
// daily report made from the command line before the digest hour does not
// stand in for the digest, which would then never be mailed.
func (g *Generator) digestExists(ctx context.Context, from time.Time) (bool, error) {
	p := store.ListReportsParams{Type: store.ReportDaily, Generated: store.TimeRange{From: from}}
	p.Limit = store.LimitMax
	found := false
	err := g.svc.Store().InTx(ctx, func(ctx context.Context, tx store.Repos) error {
		for {
			page, err := tx.Reports().List(ctx, p)
			if err != nil {
				return err
			}
			for _, r := range page.Items {
				if r.GeneratedBy == nil && r.PeriodFrom.Equal(from) && r.GeneratedAt.In(g.opts.Location).Hour() >= DigestHour {
					found = true
					return nil
				}
			}
			if page.NextCursor == "" {
				return nil
			}
			p.Cursor = page.NextCursor
		}
	})
	return found, err
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
