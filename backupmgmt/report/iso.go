package report

import (
	"context"
	"fmt"

	"github.com/custos-dev/custos/store"
)

// iso fills the evidence pack: the period summary, the compliance,
// verification and audit sections, and the three controls judged from
// them.
func (b *builder) iso(ctx context.Context, doc *Document) error {
	var err error
	if doc.Summary, err = b.summary(ctx); err != nil {
		return err
	}
	if doc.Compliance, err = b.compliance(ctx); err != nil {
		return err
	}
	if doc.Verification, err = b.verification(ctx); err != nil {
		return err
	}
	if doc.Audit, err = b.audit(ctx); err != nil {
		return err
	}
	doc.Controls = []Control{
		backupControl(doc.Summary, doc.Compliance, doc.Verification, b.svc.SLATarget()),
		loggingControl(doc.Audit),
		readinessControl(doc.Verification),
	}
	return nil
}

// check is one requirement of a control: failing it is the reason given.
type check struct {
	ok     bool
	reason string
	// fatal makes the control not met when this check fails.
	fatal bool
}

func judge(c *Control, checks []check) {
	passed := 0
	fatal := false
	c.Reasons = []string{}
	for _, ch := range checks {
		if ch.ok {
			passed++
			continue
		}
		c.Reasons = append(c.Reasons, ch.reason)
		fatal = fatal || ch.fatal
	}
	switch {
	case passed == len(checks):
		c.Status = ControlMet
		c.Reasons = append(c.Reasons, "every requirement is evidenced by the records below")
	case fatal || passed == 0:
		c.Status = ControlNotMet
	default:
		c.Status = ControlPartial
	}
}

func countOf(cs []Count, key string) int64 {
	for _, c := range cs {
		if c.Key == key {
			return c.Count
		}
	}
	return 0
}

func backupControl(s *Summary, c *ComplianceSection, v *VerificationSection, target float64) Control {
	ctl := Control{ID: "A.8.13", Name: "Information backup", Records: []string{
		"Period summary", "Failed runs", "Missed runs", "Compliance by job and asset", "Restore tests",
	}}
	nonCompliant := countOf(c.Counts.Jobs, string(store.ComplianceNonCompliant))
	passedTests := countOf(v.ByResult, string(store.TestSuccess)) + countOf(v.ByResult, string(store.TestWarning))
	ctl.Figures = []Figure{
		{"Jobs", fmt.Sprint(s.Jobs.Total)},
		{"Runs in the period", fmt.Sprint(s.RunsTotal)},
		{"Success rate", pct(s.SuccessRate)},
		{"Failed runs", fmt.Sprint(countOf(s.Runs, string(store.ExecutionFailed)))},
		{"Missed runs", fmt.Sprint(countOf(s.Runs, string(store.ExecutionMissed)))},
		{"Job compliance rate (3-2-1-1-0)", pct(&c.Counts.Rate)},
		{"Compliant jobs", fmt.Sprint(countOf(c.Counts.Jobs, string(store.ComplianceCompliant)))},
		{"Non-compliant jobs", fmt.Sprint(nonCompliant)},
		{"Restore tests passed in the period", fmt.Sprint(passedTests)},
	}
	judge(&ctl, []check{
		{ok: s.RunsTotal > 0, reason: "no backup run was recorded in the period", fatal: true},
		{ok: s.SuccessRate != nil && *s.SuccessRate >= target,
			reason: fmt.Sprintf("the success rate %s is below the %s target", pct(s.SuccessRate), pct(&target))},
		{ok: nonCompliant == 0, reason: plural(nonCompliant, "job breaks", "jobs break") + " the 3-2-1-1-0 policy"},
		{ok: passedTests > 0, reason: "no restore test passed in the period"},
	})
	return ctl
}

func loggingControl(a *AuditSection) Control {
	ctl := Control{ID: "A.8.15", Name: "Logging", Records: []string{"Audit events by user and action", "Denied and failed events", "Audit chain verification"}}
	chain := "intact"
	if !a.Chain.OK {
		chain = fmt.Sprintf("broken at event %d: %s", a.Chain.BrokenAt, a.Chain.Reason)
	}
	events := fmt.Sprint(a.Events)
	if !a.EventsExact {
		events = "at least " + events
	}
	denied := countOf(a.ByResult, string(store.AuditDenied))
	failed := countOf(a.ByResult, string(store.AuditFailed))
	ctl.Figures = []Figure{
		{"Audit events in the period", events},
		{"Denied events", fmt.Sprint(denied)},
		{"Failed events", fmt.Sprint(failed)},
		{"Hash chain", chain},
		{"Events verified", fmt.Sprintf("%d (sequence %d to %d)", a.Chain.Checked, a.Chain.FirstSeq, a.Chain.LastSeq)},
	}
	judge(&ctl, []check{
		{ok: a.Chain.OK, reason: "the audit hash chain is " + chain, fatal: true},
		{ok: a.Events > 0, reason: "no audit event was recorded in the period"},
		{ok: a.EventsExact, reason: "the period holds more events than were counted; the counts are partial"},
	})
	return ctl
}

func readinessControl(v *VerificationSection) Control {
	ctl := Control{ID: "A.5.30", Name: "ICT readiness for business continuity", Records: []string{"Restore tests", "Overdue verification schedules"}}
	passed := countOf(v.ByResult, string(store.TestSuccess)) + countOf(v.ByResult, string(store.TestWarning))
	failed := countOf(v.ByResult, string(store.TestFailed))
	ctl.Figures = []Figure{
		{"Restore tests in the period", fmt.Sprint(v.Tests.Total)},
		{"Passed", fmt.Sprint(passed)},
		{"Failed", fmt.Sprint(failed)},
		{"Tests of jobs with an RTO target", fmt.Sprint(v.WithRTO)},
		{"Within the RTO target", fmt.Sprint(v.WithinRTO)},
		{"Overdue verification schedules", fmt.Sprint(v.Overdue.Total)},
	}
	judge(&ctl, []check{
		{ok: passed > 0, reason: "no restore test passed in the period", fatal: true},
		{ok: v.WithRTO > 0, reason: "no restore test was measured against an RTO target"},
		{ok: v.WithinRTO == v.WithRTO, reason: fmt.Sprintf("%d of %d tests missed their RTO target", v.WithRTO-v.WithinRTO, v.WithRTO)},
		{ok: failed == 0, reason: plural(failed, "restore test", "restore tests") + " failed"},
		{ok: v.Overdue.Total == 0, reason: plural(v.Overdue.Total, "verification schedule is", "verification schedules are") + " overdue"},
	})
	return ctl
}

// pct shows a rate as a percentage, "n/a" for none.
func pct(r *float64) string {
	if r == nil {
		return "n/a"
	}
	return fmt.Sprintf("%.1f%%", *r*100)
}

// plural is "1 job breaks" or "2 jobs break".
func plural[N int | int64](n N, one, many string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, one)
	}
	return fmt.Sprintf("%d %s", n, many)
}
