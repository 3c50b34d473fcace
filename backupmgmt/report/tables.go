package report

import (
	"fmt"
	"strings"
	"time"
)

// table is what every format but JSON renders: a titled grid of text,
// with a note under it (rows left out, or none at all).
type table struct {
	Title   string
	Columns []string
	Rows    [][]string
	Note    string
}

// view is a Document laid out as tables, with times in its zone.
type view struct {
	Header Header
	Meta   [][2]string
	Tables []table
}

func newView(doc *Document, loc *time.Location) *view {
	l := layout{loc: loc}
	h := doc.Header
	v := &view{Header: h, Meta: [][2]string{
		{"Report", string(h.Type)},
		{"Period", l.time(h.Period.From) + " to " + l.time(h.Period.To) + " (" + loc.String() + ")"},
		{"Generated", l.time(h.GeneratedAt)},
	}}
	if h.Organisation != "" {
		v.Meta = append([][2]string{{"Organisation", h.Organisation}}, v.Meta...)
	}
	if len(doc.Controls) > 0 {
		l.controls(doc.Controls)
	}
	if doc.Summary != nil {
		l.summary(doc.Summary)
	}
	if doc.Compliance != nil {
		l.compliance(doc.Compliance)
	}
	if doc.Verification != nil {
		l.verification(doc.Verification)
	}
	if doc.Media != nil {
		l.media(doc.Media)
	}
	if doc.Audit != nil {
		l.audit(doc.Audit)
	}
	v.Tables = l.tables
	return v
}

type layout struct {
	loc    *time.Location
	tables []table
}

func (l *layout) time(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(l.loc).Format("2006-01-02 15:04:05")
}

func (l *layout) timePtr(t *time.Time) string {
	if t == nil {
		return ""
	}
	return l.time(*t)
}

func (l *layout) add(title string, cols []string, rows [][]string, note string) {
	if len(rows) == 0 && note == "" {
		note = "None."
	}
	l.tables = append(l.tables, table{Title: title, Columns: cols, Rows: rows, Note: note})
}

func (l *layout) figures(title string, figs []Figure) {
	rows := make([][]string, 0, len(figs))
	for _, f := range figs {
		rows = append(rows, []string{f.Name, f.Value})
	}
	l.add(title, []string{"Figure", "Value"}, rows, "")
}

func (l *layout) counts(title, key string, cs []Count) {
	rows := make([][]string, 0, len(cs))
	for _, c := range cs {
		rows = append(rows, []string{c.Key, fmt.Sprint(c.Count)})
	}
	l.add(title, []string{key, "Count"}, rows, "")
}

// listNote says how many rows a list left out.
func listNote[T any](ls List[T]) string {
	switch {
	case ls.NotShown > 0 && !ls.TotalExact:
		return fmt.Sprintf("%d more not shown; counting stopped at %d rows, there are more.", ls.NotShown, ls.Total)
	case ls.NotShown > 0:
		return fmt.Sprintf("%d more not shown (%d in all).", ls.NotShown, ls.Total)
	}
	return ""
}

// rowsOf makes the rows of a list.
func rowsOf[T any](ls List[T], row func(T) []string) [][]string {
	out := make([][]string, 0, len(ls.Items))
	for _, it := range ls.Items {
		out = append(out, row(it))
	}
	return out
}

func addList[T any](l *layout, title string, cols []string, ls List[T], row func(T) []string) {
	l.add(title, cols, rowsOf(ls, row), listNote(ls))
}

func bytesText(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

func seconds(s int64) string {
	if s == 0 {
		return ""
	}
	return (time.Duration(s) * time.Second).String()
}

func boolPtr(b *bool) string {
	if b == nil {
		return "n/a"
	}
	return yesNo(*b)
}

func (l *layout) controls(cs []Control) {
	rows := make([][]string, 0, len(cs))
	for _, c := range cs {
		rows = append(rows, []string{c.ID, c.Name, string(c.Status), strings.Join(c.Reasons, "; ")})
	}
	l.add("ISO/IEC 27001:2022 controls", []string{"Control", "Name", "Status", "Reasons"}, rows, "")
	for _, c := range cs {
		figs := append([]Figure{}, c.Figures...)
		figs = append(figs, Figure{"Records", strings.Join(c.Records, ", ")})
		l.figures(c.ID+" "+c.Name+": evidence", figs)
	}
}

func (l *layout) complianceCounts(c ComplianceCounts) {
	rows := make([][]string, 0, len(c.Jobs)+1)
	for i, j := range c.Jobs {
		rows = append(rows, []string{j.Key, fmt.Sprint(j.Count), fmt.Sprint(c.Assets[i].Count)})
	}
	rows = append(rows, []string{"job compliance rate", pct(&c.Rate), ""})
	l.add("Compliance now (3-2-1-1-0)", []string{"Status", "Jobs", "Assets"}, rows, "")
}

func (l *layout) summary(s *Summary) {
	l.figures("Period summary", []Figure{
		{"Jobs", fmt.Sprint(s.Jobs.Total)},
		{"Runs", fmt.Sprint(s.RunsTotal)},
		{"Success rate", pct(s.SuccessRate)},
		{"Bytes written", bytesText(s.BytesWritten)},
		{"Failed runs", fmt.Sprint(s.FailedRuns.Total)},
		{"Missed runs", fmt.Sprint(s.MissedRuns.Total)},
		{"Unresolved alerts", fmt.Sprint(s.Alerts.Total)},
		{"Job compliance rate", pct(&s.Compliance.Rate)},
	})
	l.counts("Runs by status", "Status", s.Runs)
	l.counts("Jobs by state (now)", "State", s.Jobs.ByState)
	addList(l, "Failed runs", []string{"Job", "Started", "Finished", "Errors", "Message"}, s.FailedRuns, func(r RunRow) []string {
		return []string{r.JobName, l.time(r.StartedAt), l.timePtr(r.FinishedAt), fmt.Sprint(r.Errors), r.Message}
	})
	addList(l, "Missed runs", []string{"Job", "Due", "Message"}, s.MissedRuns, func(r RunRow) []string {
		return []string{r.JobName, l.time(r.StartedAt), r.Message}
	})
	sev := make([][]string, 0, len(s.Alerts.Open))
	for i, o := range s.Alerts.Open {
		sev = append(sev, []string{o.Key, fmt.Sprint(o.Count), fmt.Sprint(s.Alerts.Acknowledged[i].Count)})
	}
	l.add("Unresolved alerts by severity (now)", []string{"Severity", "Open", "Acknowledged"}, sev, "")
	addList(l, "Unresolved alerts", []string{"Severity", "State", "Type", "Title", "First seen", "Last seen", "Occurrences"}, s.OpenAlerts, func(a AlertRow) []string {
		return []string{string(a.Severity), string(a.State), string(a.Type), a.Title, l.time(a.FirstSeenAt), l.time(a.LastSeenAt), fmt.Sprint(a.Occurrences)}
	})
	l.complianceCounts(s.Compliance)
	trend := make([][]string, 0, len(s.Trend))
	for _, d := range s.Trend {
		trend = append(trend, []string{d.Day.String(), fmt.Sprint(d.Runs), fmt.Sprint(d.Successes), fmt.Sprint(d.Failed),
			fmt.Sprint(d.Missed), pct(d.SuccessRate), pct(d.ComplianceRate), bytesText(d.BytesWritten)})
	}
	l.add("Trend (UTC days, from the daily rollups)", []string{"Day", "Runs", "Successes", "Failed", "Missed", "Success rate", "Compliance rate", "Bytes"}, trend, "")
}

func (l *layout) compliance(c *ComplianceSection) {
	l.complianceCounts(c.Counts)
	addList(l, "Compliance by job and asset", []string{"Type", "Name", "Status", "Score", "3 copies", "2 media", "1 offsite", "1 offline", "0 errors"}, c.Subjects, func(s SubjectCompliance) []string {
		row := []string{string(s.SubjectType), s.Name, string(s.Status), fmt.Sprint(s.Score)}
		for _, r := range s.Rules {
			row = append(row, r.Result+": "+r.Evidence)
		}
		return row
	})
	var findings [][]string
	for _, s := range c.Subjects.Items {
		for _, r := range s.Rules {
			for _, reason := range r.Reasons {
				findings = append(findings, []string{s.Name, r.Rule, r.Result, reason})
			}
		}
		for _, r := range s.Other {
			findings = append(findings, []string{s.Name, r.Rule, r.Severity, r.Message})
		}
	}
	l.add("Compliance findings (reasons)", []string{"Name", "Rule", "Result", "Reason"}, findings, "")
	addList(l, "Compliance changes in the period", []string{"At", "Type", "Name", "From", "To", "Reasons"}, c.Changes, func(ch ComplianceChange) []string {
		return []string{l.time(ch.At), string(ch.SubjectType), ch.Name, string(ch.From), string(ch.To), strings.Join(ch.Reasons, "; ")}
	})
}

func (l *layout) verification(v *VerificationSection) {
	figs := []Figure{{"Restore tests in the period", fmt.Sprint(v.Tests.Total)}}
	for _, c := range v.ByResult {
		figs = append(figs, Figure{"Result " + c.Key, fmt.Sprint(c.Count)})
	}
	figs = append(figs,
		Figure{"Tests of jobs with an RTO target", fmt.Sprint(v.WithRTO)},
		Figure{"Within the RTO target", fmt.Sprint(v.WithinRTO)},
		Figure{"Overdue schedules", fmt.Sprint(v.Overdue.Total)},
		Figure{"Schedules due soon", fmt.Sprint(v.DueSoon)},
	)
	l.figures("Verification summary", figs)
	addList(l, "Restore tests", []string{"Tested", "Job", "Type", "Result", "Measured RTO", "RTO target", "Within RTO", "Files checked", "Files failed", "Issues"}, v.Tests, func(t TestRow) []string {
		return []string{l.time(t.TestedAt), t.JobName, string(t.TestType), string(t.Result), seconds(t.DurationSec), seconds(t.RTOTargetSec),
			boolPtr(t.WithinRTO), fmt.Sprint(t.FilesChecked), fmt.Sprint(t.FilesFailed), t.Issues}
	})
	addList(l, "Overdue verification schedules", []string{"Job", "Frequency", "Test type", "Due on"}, v.Overdue, func(s ScheduleRow) []string {
		return []string{s.JobName, string(s.Frequency), string(s.TestType), s.NextDueOn.String()}
	})
}

func (l *layout) media(m *MediaSection) {
	l.counts("Media by status (now)", "Status", m.ByStatus)
	l.counts("Media by location (now)", "Location", m.ByLocation)
	addList(l, "Media inventory", []string{"Label", "Type", "Status", "Location", "Last written"}, m.Inventory, func(r MediaRow) []string {
		return []string{r.Label, string(r.MediaType), string(r.Status), r.Location, l.timePtr(r.LastWrittenAt)}
	})
	addList(l, fmt.Sprintf("Open lendings (%d overdue)", m.Overdue), []string{"Medium", "Borrower", "Purpose", "Lent", "Due on", "Overdue"}, m.Lendings, func(r LendingRow) []string {
		return []string{r.MediaLabel, r.Borrower, r.Purpose, l.time(r.LentAt), r.DueOn.String(), yesNo(r.Overdue)}
	})
	addList(l, "Custody events in the period", []string{"At", "Medium", "Event", "From", "To", "By", "Note"}, m.Events, func(r MediaEventRow) []string {
		return []string{l.time(r.At), r.MediaLabel, string(r.Kind), r.From, r.To, r.Actor, r.Note}
	})
	addList(l, "Rotation plans due", []string{"Plan", "Scheme", "Cycle", "Next rotation", "Media"}, m.Rotations, func(r RotationRow) []string {
		next := ""
		if r.NextRotationOn != nil {
			next = r.NextRotationOn.String()
		}
		return []string{r.Name, string(r.Scheme), string(r.Cycle), next, fmt.Sprint(r.Media)}
	})
}

func (l *layout) audit(a *AuditSection) {
	events := fmt.Sprint(a.Events)
	if !a.EventsExact {
		events = "at least " + events
	}
	chain := "intact"
	if !a.Chain.OK {
		chain = fmt.Sprintf("BROKEN at event %d: %s", a.Chain.BrokenAt, a.Chain.Reason)
	}
	figs := []Figure{
		{"Events in the period", events},
		{"Hash chain", chain},
		{"Events verified", fmt.Sprint(a.Chain.Checked)},
		{"Sequence verified", fmt.Sprintf("%d to %d", a.Chain.FirstSeq, a.Chain.LastSeq)},
	}
	if a.Chain.Anchor != "" {
		figs = append(figs, Figure{"Anchor (hash before the oldest kept event)", a.Chain.Anchor})
	}
	l.figures("Audit summary", figs)
	l.counts("Events by user", "Actor", a.ByUser)
	l.counts("Events by action", "Action", a.ByAction)
	l.counts("Events by result", "Result", a.ByResult)
	addList(l, "Denied and failed events", []string{"Seq", "At", "Actor", "Action", "Resource", "Result", "IP"}, a.Denied, func(e AuditRow) []string {
		res := e.ResourceType
		if e.ResourceID != "" {
			res += " " + e.ResourceID
		}
		return []string{fmt.Sprint(e.Seq), l.time(e.At), e.Actor, e.Action, res, string(e.Result), e.IP}
	})
}
