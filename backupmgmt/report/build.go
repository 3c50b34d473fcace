package report

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/custos-dev/custos/backupmgmt"
	"github.com/custos-dev/custos/store"
)

// Build reads the data of a report of type t over [from, to) from the
// service. It validates like Generate.
func (g *Generator) Build(ctx context.Context, t store.ReportType, from, to time.Time) (*Document, error) {
	fields := map[string]string{}
	checkType(fields, t)
	checkPeriod(fields, from, to)
	if err := fieldsErr(fields); err != nil {
		return nil, err
	}
	b := &builder{
		g: g, svc: g.svc, st: g.svc.Store(), from: store.NormalizeTime(from), to: store.NormalizeTime(to),
		jobs: map[string]store.Job{}, users: map[string]store.User{}, media: map[string]store.Media{}, assets: map[string]store.Asset{},
	}
	doc := &Document{Header: Header{
		Type:         t,
		Title:        g.title(t, b.from, b.to),
		Organisation: g.opts.Organisation,
		Period:       Period{From: b.from, To: b.to, Timezone: g.opts.Location.String()},
		GeneratedAt:  g.svc.Now(),
	}}
	var err error
	switch t {
	case store.ReportDaily, store.ReportWeekly, store.ReportMonthly:
		doc.Summary, err = b.summary(ctx)
	case store.ReportCompliance:
		doc.Compliance, err = b.compliance(ctx)
	case store.ReportVerification:
		doc.Verification, err = b.verification(ctx)
	case store.ReportMedia:
		doc.Media, err = b.mediaSection(ctx)
	case store.ReportAudit:
		doc.Audit, err = b.audit(ctx)
	case store.ReportISO27001:
		err = b.iso(ctx, doc)
	}
	if err != nil {
		return nil, fmt.Errorf("report: %s: %w", t, err)
	}
	return doc, nil
}

var typeNames = map[store.ReportType]string{
	store.ReportDaily:        "Daily report",
	store.ReportWeekly:       "Weekly report",
	store.ReportMonthly:      "Monthly report",
	store.ReportCompliance:   "3-2-1-1-0 compliance report",
	store.ReportVerification: "Restore verification report",
	store.ReportMedia:        "Offline media report",
	store.ReportAudit:        "Audit log report",
	store.ReportISO27001:     "ISO/IEC 27001:2022 evidence pack",
}

func (g *Generator) title(t store.ReportType, from, to time.Time) string {
	first := store.DateOf(from, g.opts.Location)
	last := first
	if to.After(from) {
		last = store.DateOf(to.Add(-time.Microsecond), g.opts.Location)
	}
	period := first.String()
	if last != first {
		period += " to " + last.String()
	}
	return fmt.Sprintf("%s: %s, %s", g.opts.Title, typeNames[t], period)
}

// builder reads one report's data; its maps cache the names of what rows
// refer to, fetched a page at a time.
type builder struct {
	g        *Generator
	svc      *backupmgmt.Service
	st       store.Store
	from, to time.Time
	jobs     map[string]store.Job
	users    map[string]store.User
	media    map[string]store.Media
	assets   map[string]store.Asset
}

func (b *builder) span() store.TimeRange { return store.TimeRange{From: b.from, To: b.to} }

// collect pages through fetch, keeping the first max rows that keep
// accepts (nil: all) and counting them up to scan rows read; seen, when
// set, sees every row read.
func collect[T any](b *builder, fetch func(store.PageParams) (*store.Page[T], error), keep func(T) bool, seen func(T)) (List[T], error) {
	out := List[T]{Items: []T{}, TotalExact: true}
	read := 0
	for cursor := ""; ; {
		page, err := fetch(store.PageParams{Limit: store.LimitMax, Cursor: cursor})
		if err != nil {
			return out, err
		}
		for _, it := range page.Items {
			if seen != nil {
				seen(it)
			}
			if keep != nil && !keep(it) {
				continue
			}
			out.Total++
			if len(out.Items) < b.g.opts.MaxRows {
				out.Items = append(out.Items, it)
			}
		}
		read += len(page.Items)
		if page.NextCursor == "" {
			break
		}
		if read >= b.g.opts.MaxScan {
			out.TotalExact = false
			break
		}
		cursor = page.NextCursor
	}
	out.NotShown = out.Total - len(out.Items)
	return out, nil
}

// mapList converts the rows of l, keeping its counts.
func mapList[T, R any](l List[T], f func(T) R) List[R] {
	out := List[R]{Items: make([]R, 0, len(l.Items)), Total: l.Total, TotalExact: l.TotalExact, NotShown: l.NotShown}
	for _, it := range l.Items {
		out.Items = append(out.Items, f(it))
	}
	return out
}

// lookup fills cache with the rows of ids it lacks, in one call.
func lookup[T any](ctx context.Context, cache map[string]T, ids []string, getMany func(context.Context, []string) ([]T, error), id func(T) string) error {
	var missing []string
	for _, i := range ids {
		if _, ok := cache[i]; !ok && i != "" && !slices.Contains(missing, i) {
			missing = append(missing, i)
		}
	}
	for chunk := range slices.Chunk(missing, store.LimitMax) {
		rows, err := getMany(ctx, chunk)
		if err != nil {
			return err
		}
		for _, r := range rows {
			cache[id(r)] = r
		}
	}
	return nil
}

func (b *builder) loadJobs(ctx context.Context, ids []string) error {
	return lookup(ctx, b.jobs, ids, b.st.Jobs().GetMany, func(j store.Job) string { return j.ID })
}

func (b *builder) loadUsers(ctx context.Context, ids []string) error {
	return lookup(ctx, b.users, ids, b.st.Users().GetMany, func(u store.User) string { return u.ID })
}

func (b *builder) loadMedia(ctx context.Context, ids []string) error {
	return lookup(ctx, b.media, ids, b.st.Media().GetMany, func(m store.Media) string { return m.ID })
}

func (b *builder) jobName(id string) string {
	if j, ok := b.jobs[id]; ok {
		return j.Name
	}
	return "(deleted job " + id + ")"
}

func (b *builder) userName(id string) string {
	if u, ok := b.users[id]; ok {
		return u.Username
	}
	return id
}

func ids[T any](items []T, id func(T) string) []string {
	out := make([]string, 0, len(items))
	for _, it := range items {
		out = append(out, id(it))
	}
	return out
}

// counts lists every value of keys with its count in m, in keys' order.
func counts[K ~string, N int | int64](keys []K, m map[K]N) []Count {
	out := make([]Count, 0, len(keys))
	for _, k := range keys {
		out = append(out, Count{Key: string(k), Count: int64(m[k])})
	}
	return out
}

// tally lists the counts of m, most frequent first, then by key.
func tally(m map[string]int64) []Count {
	out := make([]Count, 0, len(m))
	for _, k := range slices.Sorted(maps.Keys(m)) {
		out = append(out, Count{Key: k, Count: m[k]})
	}
	slices.SortStableFunc(out, func(a, b Count) int { return cmp.Compare(b.Count, a.Count) })
	return out
}

func (b *builder) summary(ctx context.Context) (*Summary, error) {
	s := &Summary{}
	byState, err := b.st.Jobs().CountByState(ctx)
	if err != nil {
		return nil, err
	}
	s.Jobs.ByState = counts(store.JobStateValues(), byState)
	for _, n := range byState {
		s.Jobs.Total += n
	}
	byStatus, err := b.st.Executions().CountByStatus(ctx, "", b.span())
	if err != nil {
		return nil, err
	}
	s.Runs = counts(store.ExecutionStatusValues(), byStatus)
	for _, n := range byStatus {
		s.RunsTotal += n
	}
	s.SuccessRate = successRate(byStatus)
	if s.BytesWritten, err = b.st.Executions().SumSizeBytes(ctx, b.span()); err != nil {
		return nil, err
	}
	if s.FailedRuns, err = b.runs(ctx, store.ExecutionFailed); err != nil {
		return nil, err
	}
	if s.MissedRuns, err = b.runs(ctx, store.ExecutionMissed); err != nil {
		return nil, err
	}
	alerts, err := b.svc.Alerts().Summary(ctx)
	if err != nil {
		return nil, err
	}
	s.Alerts = AlertCounts{
		Open: counts(store.SeverityValues(), alerts.Open), Acknowledged: counts(store.SeverityValues(), alerts.Acknowledged), Total: alerts.Total,
	}
	open, err := collect(b, func(p store.PageParams) (*store.Page[store.Alert], error) {
		return b.svc.Alerts().List(ctx, store.ListAlertsParams{PageParams: p, Unresolved: true})
	}, nil, nil)
	if err != nil {
		return nil, err
	}
	s.OpenAlerts = mapList(open, func(a store.Alert) AlertRow {
		return AlertRow{ID: a.ID, Type: a.Type, Severity: a.Severity, State: a.State, Title: a.Title,
			FirstSeenAt: a.FirstSeenAt.UTC(), LastSeenAt: a.LastSeenAt.UTC(), Occurrences: a.Occurrences}
	})
	if s.Compliance, err = b.complianceCounts(ctx); err != nil {
		return nil, err
	}
	if s.Trend, err = b.trend(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

// successRate is the SLA's: success and warning over finished runs.
func successRate(byStatus map[store.ExecutionStatus]int64) *float64 {
	ok := byStatus[store.ExecutionSuccess] + byStatus[store.ExecutionWarning]
	runs := ok + byStatus[store.ExecutionFailed] + byStatus[store.ExecutionMissed]
	if runs == 0 {
		return nil
	}
	r := float64(ok) / float64(runs)
	return &r
}

func (b *builder) runs(ctx context.Context, status store.ExecutionStatus) (List[RunRow], error) {
	l, err := collect(b, func(p store.PageParams) (*store.Page[store.Execution], error) {
		return b.svc.Executions().List(ctx, store.ListExecutionsParams{PageParams: p, Status: status, Started: b.span()})
	}, nil, nil)
	if err != nil {
		return List[RunRow]{}, err
	}
	if err := b.loadJobs(ctx, ids(l.Items, func(e store.Execution) string { return e.JobID })); err != nil {
		return List[RunRow]{}, err
	}
	return mapList(l, func(e store.Execution) RunRow {
		return RunRow{JobID: e.JobID, JobName: b.jobName(e.JobID), Status: e.Status, StartedAt: e.StartedAt.UTC(),
			FinishedAt: utcPtr(e.FinishedAt), Errors: e.Errors, Message: e.Message}
	}), nil
}

func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

func (b *builder) complianceCounts(ctx context.Context) (ComplianceCounts, error) {
	sum, err := b.svc.Compliance().Summary(ctx)
	if err != nil {
		return ComplianceCounts{}, err
	}
	return ComplianceCounts{
		Jobs:   counts(store.ComplianceStatusValues(), sum.Jobs),
		Assets: counts(store.ComplianceStatusValues(), sum.Assets),
		Rate:   sum.Rate,
	}, nil
}

func (b *builder) trend(ctx context.Context) ([]TrendDay, error) {
	first := store.DateOf(b.from, time.UTC)
	last := first
	if b.to.After(b.from) {
		last = store.DateOf(b.to.Add(-time.Microsecond), time.UTC)
	}
	rollups, err := b.svc.Rollups().Trend(ctx, first, last)
	if err != nil {
		return nil, err
	}
	out := make([]TrendDay, 0, len(rollups))
	for _, r := range rollups {
		d := TrendDay{
			Day: r.Day, Runs: r.ExecutionsSuccess + r.ExecutionsWarning + r.ExecutionsFailed + r.ExecutionsMissed,
			Successes: r.ExecutionsSuccess + r.ExecutionsWarning, Failed: r.ExecutionsFailed, Missed: r.ExecutionsMissed,
			BytesWritten: r.BytesWritten,
		}
		if v, ok := backupmgmt.RollupSuccessRate(r); ok {
			d.SuccessRate = &v
		}
		if v, ok := backupmgmt.RollupComplianceRate(r); ok {
			d.ComplianceRate = &v
		}
		out = append(out, d)
	}
	return out, nil
}

var fiveRules = []string{
	backupmgmt.ComplianceRuleCopies, backupmgmt.ComplianceRuleMediaTypes, backupmgmt.ComplianceRuleOffsite,
	backupmgmt.ComplianceRuleOffline, backupmgmt.ComplianceRuleZeroErrors,
}

func (b *builder) compliance(ctx context.Context) (*ComplianceSection, error) {
	c := &ComplianceSection{}
	var err error
	if c.Counts, err = b.complianceCounts(ctx); err != nil {
		return nil, err
	}
	states, err := collect(b, func(p store.PageParams) (*store.Page[store.ComplianceState], error) {
		return b.svc.Compliance().ListStates(ctx, store.ListComplianceStatesParams{PageParams: p})
	}, nil, nil)
	if err != nil {
		return nil, err
	}
	if err := loadSubjects(ctx, b, states.Items, func(s store.ComplianceState) (store.SubjectType, string) { return s.SubjectType, s.SubjectID }); err != nil {
		return nil, err
	}
	c.Subjects = mapList(states, func(s store.ComplianceState) SubjectCompliance {
		return SubjectCompliance{
			SubjectType: s.SubjectType, SubjectID: s.SubjectID, Name: b.subjectName(s.SubjectType, s.SubjectID),
			Status: s.Status, Score: s.Score, Rules: ruleResults(s), Other: otherReasons(s.Reasons), EvaluatedAt: s.EvaluatedAt.UTC(),
		}
	})
	changes, err := collect(b, func(p store.PageParams) (*store.Page[store.ComplianceChange], error) {
		return b.svc.Compliance().History(ctx, store.ListComplianceChangesParams{PageParams: p, At: b.span()})
	}, nil, nil)
	if err != nil {
		return nil, err
	}
	if err := loadSubjects(ctx, b, changes.Items, func(s store.ComplianceChange) (store.SubjectType, string) { return s.SubjectType, s.SubjectID }); err != nil {
		return nil, err
	}
	c.Changes = mapList(changes, func(ch store.ComplianceChange) ComplianceChange {
		out := ComplianceChange{SubjectType: ch.SubjectType, SubjectID: ch.SubjectID, Name: b.subjectName(ch.SubjectType, ch.SubjectID),
			From: ch.From, To: ch.To, At: ch.At.UTC(), Reasons: []string{}}
		for _, r := range ch.Reasons {
			out.Reasons = append(out.Reasons, r.Message)
		}
		return out
	})
	return c, nil
}

func loadSubjects[T any](ctx context.Context, b *builder, items []T, subject func(T) (store.SubjectType, string)) error {
	var jobs, assets []string
	for _, it := range items {
		switch t, id := subject(it); t {
		case store.SubjectJob:
			jobs = append(jobs, id)
		case store.SubjectAsset:
			assets = append(assets, id)
		}
	}
	if err := b.loadJobs(ctx, jobs); err != nil {
		return err
	}
	return lookup(ctx, b.assets, assets, b.st.Assets().GetMany, func(a store.Asset) string { return a.ID })
}

func (b *builder) subjectName(t store.SubjectType, id string) string {
	if t == store.SubjectAsset {
		if a, ok := b.assets[id]; ok {
			return a.Name
		}
		return "(deleted asset " + id + ")"
	}
	return b.jobName(id)
}

// ruleResults judges each digit of 3-2-1-1-0 from the state's reasons: an
// error fails the rule, a warning alone leaves it at "warning".
func ruleResults(s store.ComplianceState) []RuleResult {
	evidence := map[string]string{
		backupmgmt.ComplianceRuleCopies:     fmt.Sprintf("%d fresh copies", s.Copies),
		backupmgmt.ComplianceRuleMediaTypes: fmt.Sprintf("%d media types", s.MediaTypes),
		backupmgmt.ComplianceRuleOffsite:    "offsite copy: " + yesNo(s.Offsite),
		backupmgmt.ComplianceRuleOffline:    "offline or immutable copy: " + yesNo(s.OfflineOrImmutable),
		backupmgmt.ComplianceRuleZeroErrors: "verified restore: " + yesNo(s.Verified),
	}
	out := make([]RuleResult, 0, len(fiveRules))
	for _, rule := range fiveRules {
		r := RuleResult{Rule: rule, Result: "pass", Evidence: evidence[rule], Reasons: []string{}}
		for _, reason := range s.Reasons {
			if reason.Rule != rule {
				continue
			}
			r.Reasons = append(r.Reasons, reason.Message)
			if reason.Severity == string(store.SeverityError) {
				r.Result = "fail"
			} else if r.Result == "pass" {
				r.Result = "warning"
			}
		}
		if s.Status == store.ComplianceUnknown && len(r.Reasons) == 0 {
			r.Result = "unknown"
		}
		out = append(out, r)
	}
	return out
}

func otherReasons(reasons []store.ComplianceReason) []store.ComplianceReason {
	out := []store.ComplianceReason{}
	for _, r := range reasons {
		if !slices.Contains(fiveRules, r.Rule) {
			out = append(out, r)
		}
	}
	return out
}

func yesNo(v bool) string {
	if v {
		return "yes"
	}
	return "no"
}

func (b *builder) verification(ctx context.Context) (*VerificationSection, error) {
	v := &VerificationSection{}
	byResult := map[store.TestResult]int64{}
	tests, err := collect(b, func(p store.PageParams) (*store.Page[store.VerificationTest], error) {
		page, err := b.svc.Verification().ListTests(ctx, store.ListVerificationTestsParams{PageParams: p, Tested: b.span()})
		if err == nil {
			err = b.loadJobs(ctx, ids(page.Items, func(t store.VerificationTest) string { return t.JobID }))
		}
		return page, err
	}, nil, func(t store.VerificationTest) {
		byResult[t.Result]++
		if within := b.withinRTO(t); within != nil {
			v.WithRTO++
			if *within {
				v.WithinRTO++
			}
		}
	})
	if err != nil {
		return nil, err
	}
	v.ByResult = counts(store.TestResultValues(), byResult)
	v.Tests = mapList(tests, func(t store.VerificationTest) TestRow {
		return TestRow{
			JobID: t.JobID, JobName: b.jobName(t.JobID), TestType: t.TestType, Result: t.Result, TestedAt: t.TestedAt.UTC(),
			DurationSec: int64(t.Duration / time.Second), RTOTargetSec: int64(b.jobs[t.JobID].RTOTarget / time.Second),
			WithinRTO: b.withinRTO(t), FilesChecked: t.FilesChecked, FilesFailed: t.FilesFailed, Issues: t.Issues,
		}
	})
	due, err := b.svc.Verification().Due(ctx)
	if err != nil {
		return nil, err
	}
	v.DueSoon = len(due.DueSoon)
	if err := b.loadJobs(ctx, ids(due.Overdue, func(s store.VerificationSchedule) string { return s.JobID })); err != nil {
		return nil, err
	}
	overdue := List[store.VerificationSchedule]{Items: due.Overdue, Total: len(due.Overdue), TotalExact: true}
	if len(overdue.Items) > b.g.opts.MaxRows {
		overdue.Items = overdue.Items[:b.g.opts.MaxRows]
	}
	overdue.NotShown = overdue.Total - len(overdue.Items)
	v.Overdue = mapList(overdue, func(s store.VerificationSchedule) ScheduleRow {
		return ScheduleRow{JobID: s.JobID, JobName: b.jobName(s.JobID), Frequency: s.Frequency, TestType: s.TestType, NextDueOn: s.NextDueOn}
	})
	return v, nil
}

// withinRTO compares a test's measured duration with its job's RTO
// target; nil when the job has none. A failed test never meets it.
func (b *builder) withinRTO(t store.VerificationTest) *bool {
	target := b.jobs[t.JobID].RTOTarget
	if target <= 0 {
		return nil
	}
	ok := t.Result != store.TestFailed && t.Duration <= target
	return &ok
}

func (b *builder) mediaSection(ctx context.Context) (*MediaSection, error) {
	m := &MediaSection{}
	byStatus, err := b.st.Media().CountByStatus(ctx)
	if err != nil {
		return nil, err
	}
	m.ByStatus = counts(store.MediaStatusValues(), byStatus)
	byLocation := map[string]int64{}
	inv, err := collect(b, func(p store.PageParams) (*store.Page[store.Media], error) {
		return b.svc.Media().List(ctx, store.ListMediaParams{PageParams: p})
	}, nil, func(md store.Media) {
		byLocation[cmp.Or(md.Location, "(none)")]++
		b.media[md.ID] = md
	})
	if err != nil {
		return nil, err
	}
	m.ByLocation = tally(byLocation)
	m.Inventory = mapList(inv, func(md store.Media) MediaRow {
		return MediaRow{ID: md.ID, Label: md.Label, MediaType: md.MediaType, Status: md.Status, Location: md.Location, LastWrittenAt: utcPtr(md.LastWrittenAt)}
	})

	today := b.svc.Today()
	open := true
	lendings, err := collect(b, func(p store.PageParams) (*store.Page[store.Lending], error) {
		return b.svc.Media().Lendings(ctx, store.ListLendingsParams{PageParams: p, Open: &open})
	}, nil, func(l store.Lending) {
		if l.DueOn.Before(today) {
			m.Overdue++
		}
	})
	if err != nil {
		return nil, err
	}
	if err := b.loadMedia(ctx, ids(lendings.Items, func(l store.Lending) string { return l.MediaID })); err != nil {
		return nil, err
	}
	if err := b.loadUsers(ctx, ids(lendings.Items, func(l store.Lending) string { return l.BorrowerID })); err != nil {
		return nil, err
	}
	m.Lendings = mapList(lendings, func(l store.Lending) LendingRow {
		return LendingRow{MediaLabel: b.mediaLabel(l.MediaID), Borrower: b.userName(l.BorrowerID), Purpose: l.Purpose,
			LentAt: l.LentAt.UTC(), DueOn: l.DueOn, Overdue: l.DueOn.Before(today)}
	})

	events, err := collect(b, func(p store.PageParams) (*store.Page[store.MediaEvent], error) {
		return b.svc.Media().Events(ctx, store.ListMediaEventsParams{PageParams: p, At: b.span()})
	}, nil, nil)
	if err != nil {
		return nil, err
	}
	if err := b.loadMedia(ctx, ids(events.Items, func(e store.MediaEvent) string { return e.MediaID })); err != nil {
		return nil, err
	}
	if err := b.loadUsers(ctx, ids(events.Items, func(e store.MediaEvent) string { return deref(e.ActorID) })); err != nil {
		return nil, err
	}
	m.Events = mapList(events, func(e store.MediaEvent) MediaEventRow {
		actor := "system"
		if e.ActorID != nil {
			actor = b.userName(*e.ActorID)
		}
		return MediaEventRow{MediaLabel: b.mediaLabel(e.MediaID), Kind: e.Kind, From: e.FromLocation, To: e.ToLocation, Actor: actor, At: e.At.UTC(), Note: e.Note}
	})

	lastDay := store.DateOf(b.to.Add(-time.Microsecond), b.g.opts.Location)
	active := true
	plans, err := collect(b, func(p store.PageParams) (*store.Page[store.RotationPlan], error) {
		return b.svc.Rotation().ListPlans(ctx, store.ListRotationPlansParams{PageParams: p, Active: &active})
	}, func(p store.RotationPlan) bool { return p.NextRotationOn != nil && !p.NextRotationOn.After(lastDay) }, nil)
	if err != nil {
		return nil, err
	}
	m.Rotations = mapList(plans, func(p store.RotationPlan) RotationRow {
		return RotationRow{Name: p.Name, Scheme: p.Scheme, Cycle: p.Cycle, NextRotationOn: p.NextRotationOn, Media: len(p.MediaIDs)}
	})
	return m, nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func (b *builder) mediaLabel(id string) string {
	if md, ok := b.media[id]; ok {
		return md.Label
	}
	return "(deleted medium " + id + ")"
}

func (b *builder) audit(ctx context.Context) (*AuditSection, error) {
	a := &AuditSection{}
	byActor, byAction, byResult := map[string]int64{}, map[string]int64{}, map[store.AuditResult]int64{}
	all, err := collect(b, func(p store.PageParams) (*store.Page[store.AuditEvent], error) {
		return b.svc.Audit().List(ctx, store.ListAuditParams{PageParams: p, At: b.span()})
	}, func(store.AuditEvent) bool { return false }, func(e store.AuditEvent) {
		a.Events++
		byActor[e.Actor]++
		byAction[e.Action]++
		byResult[e.Result]++
	})
	if err != nil {
		return nil, err
	}
	a.EventsExact = all.TotalExact
	var userIDs []string
	for actor := range byActor {
		if id, ok := strings.CutPrefix(actor, "user:"); ok {
			userIDs = append(userIDs, id)
		}
	}
	if err := b.loadUsers(ctx, userIDs); err != nil {
		return nil, err
	}
	named := map[string]int64{}
	for actor, n := range byActor {
		named[b.actorName(actor)] += n
	}
	a.ByUser = tally(named)
	a.ByAction = tally(byAction)
	a.ByResult = counts(store.AuditResultValues(), byResult)

	bad := List[store.AuditEvent]{TotalExact: true}
	for _, res := range []store.AuditResult{store.AuditDenied, store.AuditFailed} {
		l, err := collect(b, func(p store.PageParams) (*store.Page[store.AuditEvent], error) {
			return b.svc.Audit().List(ctx, store.ListAuditParams{PageParams: p, At: b.span(), Result: res})
		}, nil, nil)
		if err != nil {
			return nil, err
		}
		bad.Items = append(bad.Items, l.Items...)
		bad.Total += l.Total
		bad.TotalExact = bad.TotalExact && l.TotalExact
	}
	slices.SortFunc(bad.Items, func(x, y store.AuditEvent) int { return cmp.Compare(y.Seq, x.Seq) })
	if len(bad.Items) > b.g.opts.MaxRows {
		bad.Items = bad.Items[:b.g.opts.MaxRows]
	}
	bad.NotShown = bad.Total - len(bad.Items)
	var actorIDs []string
	for _, e := range bad.Items {
		if id, ok := strings.CutPrefix(e.Actor, "user:"); ok {
			actorIDs = append(actorIDs, id)
		}
	}
	if err := b.loadUsers(ctx, actorIDs); err != nil {
		return nil, err
	}
	a.Denied = mapList(bad, func(e store.AuditEvent) AuditRow {
		return AuditRow{Seq: e.Seq, At: e.At.UTC(), Actor: b.actorName(e.Actor), Action: e.Action, ResourceType: e.ResourceType,
			ResourceID: e.ResourceID, Result: e.Result, IP: e.IP}
	})

	v, err := b.svc.Audit().Verify(ctx)
	if err != nil {
		return nil, err
	}
	a.Chain = ChainResult{OK: v.OK, Checked: v.Checked, FirstSeq: v.FirstSeq, LastSeq: v.LastSeq, BrokenAt: v.BrokenAt, Reason: v.Reason, Anchor: v.Anchor}
	return a, nil
}

// actorName shows "user:<id>" as the user's name; keys and the system
// stay as they are.
func (b *builder) actorName(actor string) string {
	if id, ok := strings.CutPrefix(actor, "user:"); ok {
		if u, ok := b.users[id]; ok {
			return u.Username
		}
	}
	return actor
}
