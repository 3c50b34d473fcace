package backupmgmt

import (
	"cmp"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/custos-dev/custos/store"
)

// Rule names of Evaluation.Rules and of store.ComplianceReason.Rule, in the
// order reasons are sorted.
const (
	ComplianceRuleCopies     = "3copies"
	ComplianceRuleMediaTypes = "2media"
	ComplianceRuleOffsite    = "1offsite"
	ComplianceRuleOffline    = "1offline"
	ComplianceRuleZeroErrors = "0errors"
	// ComplianceRulePolicy marks the reasons outside the five digits:
	// encryption, retention and an invalid policy.
	ComplianceRulePolicy = "policy"
)

var complianceRuleOrder = []string{
	ComplianceRuleCopies, ComplianceRuleMediaTypes, ComplianceRuleOffsite,
	ComplianceRuleOffline, ComplianceRuleZeroErrors, ComplianceRulePolicy,
}

// Score weights of the five digits (DESIGN §4.3); they add up to 100.
const (
	complianceWeightCopies     = 25
	complianceWeightMediaTypes = 20
	complianceWeightOffsite    = 20
	complianceWeightOffline    = 20
	complianceWeightZeroErrors = 15
)

var (
	complianceError   = string(store.SeverityError)
	complianceWarning = string(store.SeverityWarning)
)

// EvaluationInput is everything the compliance of one job depends on.
type EvaluationInput struct {
	Policy Policy
	Job    store.Job
	// Copies are the job's configured copies.
	Copies []store.Copy
	// LatestTest is the job's most recent restore test; nil if it has none.
	LatestTest *store.VerificationTest
	// Schedule is the job's verification schedule; nil, or an inactive one,
	// means Policy.VerificationMaxAge sets the cadence instead.
	Schedule *store.VerificationSchedule
	Now      time.Time
	// Location decides which day "today" is for due dates, and the dates
	// reasons print. Nil means UTC.
	Location *time.Location
}

// AssetJobInput is one of an asset's jobs with what its compliance depends
// on; see EvaluationInput for the fields.
type AssetJobInput struct {
	Job        store.Job
	Copies     []store.Copy
	LatestTest *store.VerificationTest
	Schedule   *store.VerificationSchedule
}

// Evaluation is the verdict of the 3-2-1-1-0 rule for a job or an asset,
// with its evidence.
type Evaluation struct {
	// Status is non_compliant when a Required part fails, warning when only
	// Recommended parts fail or a soft condition holds, compliant otherwise,
	// and unknown when the policy is invalid.
	Status store.ComplianceStatus
	// Copies counts the fresh backup copies.
	Copies int
	// MediaTypes counts the distinct media types among the fresh copies.
	MediaTypes int
	// Offsite reports a fresh offsite copy.
	Offsite bool
	// OfflineOrImmutable reports a fresh copy that is offline, or immutable
	// with no end to its immutability or an end after now.
	OfflineOrImmutable bool
	// Verified is the "0": the latest restore test passed (with or without
	// warnings) and is within its cadence, and no copy is in failed state;
	// for an asset, this holds for every one of its jobs.
	Verified bool
	// Encrypted reports that there are copies and all of them are encrypted.
	Encrypted bool
	// Rules tells, per digit (the ComplianceRule names but
	// ComplianceRulePolicy), whether the subject meets the policy's
	// threshold, whatever the digit's level: a NotRequired digit may be false
	// here and still count as met in Score.
	Rules map[string]bool
	// Score is 0–100: copies 25, media types 20, offsite 20, offline or
	// immutable 20, zero errors 15. A NotRequired digit counts as met; the
	// copies digit gives partial credit, 25 × fresh / required rounded down;
	// the others are all or nothing.
	Score int
	// Reasons explain every finding with its evidence, sorted by digit
	// (3, 2, 1 offsite, 1 offline, 0, then policy) and message. Severity
	// "error" is a Required part failing, "warning" anything softer. Never
	// nil.
	Reasons []store.ComplianceReason
	// RecheckAt is the earliest time after the evaluation's Now at which the
	// same inputs may give a different Evaluation: a copy going stale, an
	// immutability ending, a restore test falling due or overdue, an age or
	// a day count in a reason moving on. Zero means time alone changes
	// nothing. It may be earlier than needed, never later; the sweep reads
	// a stored state again only from then (Compliance.Sweep).
	RecheckAt time.Time
}

// State returns e as the stored state of a subject evaluated at now.
// ChangedAt is now too: a caller that finds the status unchanged keeps the
// previous ChangedAt.
func (e Evaluation) State(subjectType store.SubjectType, subjectID string, now time.Time) store.ComplianceState {
	now = store.NormalizeTime(now)
	return store.ComplianceState{
		SubjectType:        subjectType,
		SubjectID:          subjectID,
		Status:             e.Status,
		Copies:             e.Copies,
		MediaTypes:         e.MediaTypes,
		Offsite:            e.Offsite,
		OfflineOrImmutable: e.OfflineOrImmutable,
		Verified:           e.Verified,
		Score:              e.Score,
		Reasons:            slices.Clone(e.Reasons),
		EvaluatedAt:        now,
		ChangedAt:          now,
	}
}

// Evaluate judges one job against its policy (DESIGN §1 and §4.3). It is a
// pure function of its input: no clock, no I/O.
//
// A copy is fresh when it is not in failed state and was last written no
// longer ago than its window: the job's RPO target; without one, the policy's
// FreshnessFallbackMultiplier times the interval of an interval schedule, or
// times 24 hours for a cron schedule (an approximation: cron expressions have
// no fixed interval, and most backup crons run daily or more often). A manual
// job without an RPO target has no window: any written copy is fresh. An
// offline copy gets the larger of that window and OfflineFreshness, so that
// a slow job does not hold its tapes to a tighter limit than its disks.
//
// The "0" is met by a latest test that succeeded (a warning result passes
// with a soft warning) and is within its cadence: with an active schedule,
// its NextDueOn is not before today in Location; without, the test is at
// most VerificationMaxAge old. No copy may be in failed state. A test falling
// due within DueSoon days is a soft warning.
//
// Soft conditions, warnings whatever the levels: a stale or never-written
// copy, a test that passed with warnings or falls due soon, a job retention
// below Policy.RetentionDays or unknown. Reasons about a part the policy does
// not require are left out, so a policy that needs nothing gives compliant
// with no reasons. An invalid policy gives status unknown, score 0 and a
// "policy" reason naming the refused fields. Inactive and paused jobs are
// evaluated like any other: whether to store the result is the caller's
// choice.
func Evaluate(in EvaluationInput) Evaluation {
	job := AssetJobInput{Job: in.Job, Copies: in.Copies, LatestTest: in.LatestTest, Schedule: in.Schedule}
	return complianceEvaluate(in.Policy, []AssetJobInput{job}, in.Now, in.Location, false)
}

// EvaluateAsset judges an asset: the copy digits (3, 2, 1, 1) over the union
// of its jobs' copies, each copy fresh by its own job's window, and the "0"
// as every job verified. Reasons about one job start with "job `name`: ". An
// asset without jobs fails every digit it requires. Otherwise it follows the
// rules of Evaluate; loc is its Location.
func EvaluateAsset(policy Policy, jobs []AssetJobInput, now time.Time, loc *time.Location) Evaluation {
	return complianceEvaluate(policy, jobs, now, loc, true)
}

// complianceRun is one evaluation under way.
type complianceRun struct {
	p          Policy
	now        time.Time
	loc        *time.Location
	today      store.Date
	copyDigits bool // whether the policy checks any of the 3, 2, 1, 1
	reasons    []store.ComplianceReason
	recheckAt  time.Time // see Evaluation.RecheckAt
}

// complianceCopy is a copy with its verdict and the name reasons use.
type complianceCopy struct {
	store.Copy
	label string // "copy `nas`", or "job `erp`: copy `nas`" for an asset
	rule  string // the digit its freshness is reported under
	fresh bool
}

func complianceEvaluate(p Policy, jobs []AssetJobInput, now time.Time, loc *time.Location, asset bool) Evaluation {
	if loc == nil {
		loc = time.UTC
	}
	ev := Evaluation{
		Status:  store.ComplianceUnknown,
		Rules:   make(map[string]bool, 5),
		Reasons: []store.ComplianceReason{},
	}
	for _, rule := range complianceRuleOrder[:5] {
		ev.Rules[rule] = false
	}
	if err := p.Validate(); err != nil {
		ev.Reasons = append(ev.Reasons, store.ComplianceReason{
			Rule:     ComplianceRulePolicy,
			Severity: complianceError,
			Message:  "invalid policy: " + complianceFields(err),
		})
		return ev
	}
	p = p.withDefaults()
	r := &complianceRun{
		p:     p,
		now:   now,
		loc:   loc,
		today: store.DateOf(now, loc),
		copyDigits: p.Copies != NotRequired || p.MediaTypes != NotRequired ||
			p.Offsite != NotRequired || p.OfflineOrImmutable != NotRequired,
	}

	var copies []complianceCopy
	ev.Verified = len(jobs) > 0
	if len(jobs) == 0 {
		r.addFor(p.Verification, ComplianceRuleZeroErrors, "no jobs protect this asset")
	}
	for _, in := range jobs {
		prefix := ""
		if asset {
			prefix = "job `" + in.Job.Name + "`: "
		}
		r.retention(in.Job, prefix)
		cs := r.copies(in, prefix)
		if !r.verification(in, cs, prefix) {
			ev.Verified = false
		}
		copies = append(copies, cs...)
	}
	r.digits(&ev, copies)
	r.encryption(&ev, copies)

	slices.SortFunc(r.reasons, func(a, b store.ComplianceReason) int {
		return cmp.Or(
			cmp.Compare(slices.Index(complianceRuleOrder, a.Rule), slices.Index(complianceRuleOrder, b.Rule)),
			strings.Compare(a.Message, b.Message),
			strings.Compare(a.Severity, b.Severity),
		)
	})
	ev.Reasons = append(ev.Reasons, r.reasons...)
	ev.Status = store.ComplianceCompliant
	for _, reason := range ev.Reasons {
		switch reason.Severity {
		case complianceError:
			ev.Status = store.ComplianceNonCompliant
		case complianceWarning:
			if ev.Status == store.ComplianceCompliant {
				ev.Status = store.ComplianceWarning
			}
		}
	}
	ev.Score = complianceScore(p, ev)
	ev.RecheckAt = r.recheckAt
	return ev
}

// recheck notes that the evaluation may change at t.
func (r *complianceRun) recheck(t time.Time) {
	if r.recheckAt.IsZero() || t.Before(r.recheckAt) {
		r.recheckAt = t
	}
}

// recheckAge notes when a reason printing the age since start, against
// limit (complianceAge), next reads differently.
func (r *complianceRun) recheckAge(start time.Time, limit time.Duration) {
	u, _ := complianceAgeUnit(limit)
	if u == 0 {
		// The age prints to the nanosecond: every evaluation differs.
		r.recheck(r.now.Add(time.Nanosecond))
		return
	}
	n := r.now.Sub(start) / u
	r.recheck(start.Add((n + 1) * u))
}

// recheckDue notes when a due date's reasons next change: the day it falls
// due soon, or every midnight once it has.
func (r *complianceRun) recheckDue(due store.Date, dueSoonDays int) {
	if complianceDaysBetween(r.today, due) > dueSoonDays {
		r.recheck(due.AddDays(-dueSoonDays).In(r.loc))
		return
	}
	r.recheck(r.today.AddDays(1).In(r.loc))
}

// add records a reason.
func (r *complianceRun) add(rule, severity, msg string) {
	r.reasons = append(r.reasons, store.ComplianceReason{Rule: rule, Severity: severity, Message: msg})
}

// addFor records a reason about a part asked for at level: an error when it
// is Required, a warning when Recommended, nothing when NotRequired.
func (r *complianceRun) addFor(level Requirement, rule, msg string) {
	switch level {
	case Required:
		r.add(rule, complianceError, msg)
	case Recommended:
		r.add(rule, complianceWarning, msg)
	}
}

// softFor records a warning about a part the policy checks at level.
func (r *complianceRun) softFor(level Requirement, rule, msg string) {
	if level != NotRequired {
		r.add(rule, complianceWarning, msg)
	}
}

// retention warns when the job keeps its backups for less than the policy
// asks, or does not say.
func (r *complianceRun) retention(job store.Job, prefix string) {
	minDays := r.p.RetentionDays
	switch {
	case minDays == 0:
	case job.RetentionDays <= 0:
		r.add(ComplianceRulePolicy, complianceWarning, fmt.Sprintf(
			"%sretention unknown, policy minimum %s", prefix, complianceCount(int64(minDays), "day")))
	case job.RetentionDays < minDays:
		r.add(ComplianceRulePolicy, complianceWarning, fmt.Sprintf(
			"%sretention %s, policy minimum %s", prefix,
			complianceCount(int64(job.RetentionDays), "day"), complianceCount(int64(minDays), "day")))
	}
}

// copies judges the freshness of a job's copies and reports the stale and
// never-written ones; failed ones are reported under the "0".
func (r *complianceRun) copies(in AssetJobInput, prefix string) []complianceCopy {
	out := make([]complianceCopy, 0, len(in.Copies))
	for _, c := range in.Copies {
		cc := complianceCopy{Copy: c, label: prefix + "copy `" + c.Name + "`", rule: ComplianceRuleCopies}
		if c.Offline {
			cc.rule = ComplianceRuleOffline
		}
		window := r.freshnessWindow(in.Job, c)
		switch {
		case c.Status == store.CopyStatusFailed:
		case c.LastWrittenAt == nil:
			if r.copyDigits {
				r.add(cc.rule, complianceWarning, cc.label+" has never been written")
			}
		case window > 0 && r.now.Sub(*c.LastWrittenAt) > window:
			if r.copyDigits {
				age, limit := complianceAge(r.now.Sub(*c.LastWrittenAt), window)
				r.add(cc.rule, complianceWarning, fmt.Sprintf("%s last written %s ago, limit %s", cc.label, age, limit))
				r.recheckAge(*c.LastWrittenAt, window)
			}
		default:
			cc.fresh = true
			if window > 0 {
				// Stale from the first instant past the window.
				r.recheck(c.LastWrittenAt.Add(window).Add(time.Nanosecond))
			}
			if r.immutable(c) && c.ImmutableUntil != nil {
				r.recheck(*c.ImmutableUntil)
			}
		}
		out = append(out, cc)
	}
	return out
}

// freshnessWindow is how long ago a copy may have been written and still be
// fresh; 0 means no limit.
func (r *complianceRun) freshnessWindow(job store.Job, c store.Copy) time.Duration {
	var window time.Duration
	mult := time.Duration(r.p.FreshnessFallbackMultiplier)
	switch s := job.Schedule; {
	case job.RPOTarget > 0:
		window = job.RPOTarget
	case s.Kind == store.ScheduleManual:
		return 0
	case s.Kind == store.ScheduleInterval && s.Interval > 0:
		window = math.MaxInt64
		if s.Interval <= math.MaxInt64/mult {
			window = mult * s.Interval
		}
	default:
		window = mult * policyDay
	}
	if c.Offline {
		window = max(window, r.p.OfflineFreshness)
	}
	return window
}

// verification judges the "0" of one job and reports why it fails or
// warns.
func (r *complianceRun) verification(in AssetJobInput, copies []complianceCopy, prefix string) bool {
	level := r.p.Verification
	rule := ComplianceRuleZeroErrors
	dueSoonDays := int(r.p.DueSoon / policyDay)
	ok := true
	t := in.LatestTest
	var tested store.Date
	if t != nil {
		tested = store.DateOf(t.TestedAt, r.loc)
	}
	switch {
	case t == nil:
		ok = false
		r.addFor(level, rule, prefix+"no restore test recorded")
	case t.Result == store.TestSuccess:
	case t.Result == store.TestWarning:
		r.softFor(level, rule, fmt.Sprintf("%slatest restore test %s passed with warnings", prefix, tested))
	case t.Result == store.TestFailed:
		ok = false
		r.addFor(level, rule, fmt.Sprintf("%slatest restore test %s failed", prefix, tested))
	default:
		ok = false
		r.addFor(level, rule, fmt.Sprintf("%slatest restore test %s has unknown result %q", prefix, tested, t.Result))
	}

	if s := in.Schedule; s != nil && s.Active {
		days := complianceDaysBetween(r.today, s.NextDueOn)
		r.recheckDue(s.NextDueOn, dueSoonDays)
		switch {
		case days < 0:
			ok = false
			r.addFor(level, rule, fmt.Sprintf("%srestore test was due %s (%s)", prefix, s.NextDueOn, complianceDaysText(days)))
		case ok && days <= dueSoonDays:
			r.softFor(level, rule, fmt.Sprintf("%srestore test due %s (%s)", prefix, s.NextDueOn, complianceDaysText(days)))
		}
	} else if t != nil {
		due := t.TestedAt.Add(r.p.VerificationMaxAge)
		if r.now.After(due) {
			ok = false
			age, limit := complianceAge(r.now.Sub(t.TestedAt), r.p.VerificationMaxAge)
			r.addFor(level, rule, fmt.Sprintf("%slatest restore test %s is %s old, limit %s", prefix, tested, age, limit))
			r.recheckAge(t.TestedAt, r.p.VerificationMaxAge)
		} else {
			dueOn := store.DateOf(due, r.loc)
			r.recheck(due.Add(time.Nanosecond))
			r.recheckDue(dueOn, dueSoonDays)
			if days := complianceDaysBetween(r.today, dueOn); ok && days <= dueSoonDays {
				r.softFor(level, rule, fmt.Sprintf("%srestore test due %s (%s)", prefix, dueOn, complianceDaysText(days)))
			}
		}
	}

	for _, c := range copies {
		if c.Status != store.CopyStatusFailed {
			continue
		}
		ok = false
		msg := c.label + " is in failed state"
		switch {
		case level != NotRequired:
			r.addFor(level, rule, msg)
		case r.copyDigits:
			// Still the evidence of why the copy does not count.
			r.add(c.rule, complianceWarning, msg)
		}
	}
	return ok
}

// digits judges the 3, 2, 1 and 1 over the fresh copies.
func (r *complianceRun) digits(ev *Evaluation, copies []complianceCopy) {
	p := r.p
	media := make(map[store.MediaType]bool)
	var offsiteConfigured, offlineConfigured bool
	for _, c := range copies {
		offsiteConfigured = offsiteConfigured || c.Offsite
		offlineConfigured = offlineConfigured || c.Offline || c.Immutable
		if !c.fresh {
			continue
		}
		ev.Copies++
		media[c.MediaType] = true
		ev.Offsite = ev.Offsite || c.Offsite
		ev.OfflineOrImmutable = ev.OfflineOrImmutable || c.Offline || r.immutable(c.Copy)
	}
	ev.MediaTypes = len(media)
	ev.Rules[ComplianceRuleCopies] = ev.Copies >= p.MinBackupCopies
	ev.Rules[ComplianceRuleMediaTypes] = ev.MediaTypes >= p.MinMediaTypes
	ev.Rules[ComplianceRuleOffsite] = ev.Offsite
	ev.Rules[ComplianceRuleOffline] = ev.OfflineOrImmutable
	ev.Rules[ComplianceRuleZeroErrors] = ev.Verified

	if !ev.Rules[ComplianceRuleCopies] {
		if len(copies) == 0 {
			r.addFor(p.Copies, ComplianceRuleCopies, fmt.Sprintf(
				"no copies configured, policy requires %s", complianceCount(int64(p.MinBackupCopies), "fresh backup copy")))
		} else {
			r.addFor(p.Copies, ComplianceRuleCopies, fmt.Sprintf(
				"%s, policy requires %d", complianceCount(int64(ev.Copies), "fresh backup copy"), p.MinBackupCopies))
		}
	}
	if !ev.Rules[ComplianceRuleMediaTypes] {
		names := slices.Sorted(maps.Keys(media))
		list := ""
		if len(names) > 0 {
			parts := make([]string, len(names))
			for i, m := range names {
				parts[i] = string(m)
			}
			list = " (" + strings.Join(parts, ", ") + ")"
		}
		r.addFor(p.MediaTypes, ComplianceRuleMediaTypes, fmt.Sprintf("%s among fresh copies%s, policy requires %d",
			complianceCount(int64(ev.MediaTypes), "media type"), list, p.MinMediaTypes))
	}
	if !ev.Offsite {
		msg := "no offsite copy configured"
		if offsiteConfigured {
			msg = "no fresh offsite copy"
		}
		r.addFor(p.Offsite, ComplianceRuleOffsite, msg)
	}
	if !ev.OfflineOrImmutable {
		msg := "no offline or immutable copy configured"
		if offlineConfigured {
			msg = "no fresh offline or immutable copy"
		}
		r.addFor(p.OfflineOrImmutable, ComplianceRuleOffline, msg)
		for _, c := range copies {
			if c.fresh && c.Immutable && !r.immutable(c.Copy) {
				r.addFor(p.OfflineOrImmutable, ComplianceRuleOffline, fmt.Sprintf(
					"%s immutable until %s, which has passed", c.label, store.DateOf(*c.ImmutableUntil, r.loc)))
			}
		}
	}
}

// immutable reports whether c is immutable now: flagged so, with no end or
// an end after now.
func (r *complianceRun) immutable(c store.Copy) bool {
	return c.Immutable && (c.ImmutableUntil == nil || c.ImmutableUntil.After(r.now))
}

// encryption judges whether every copy is encrypted.
func (r *complianceRun) encryption(ev *Evaluation, copies []complianceCopy) {
	ev.Encrypted = len(copies) > 0
	for _, c := range copies {
		if !c.Encrypted {
			ev.Encrypted = false
			r.addFor(r.p.Encryption, ComplianceRulePolicy, c.label+" is not encrypted")
		}
	}
	if len(copies) == 0 {
		r.addFor(r.p.Encryption, ComplianceRulePolicy, "no copies configured to encrypt")
	}
}

// complianceScore weighs the digits of ev; see Evaluation.Score.
func complianceScore(p Policy, ev Evaluation) int {
	score := 0
	if p.Copies == NotRequired || p.MinBackupCopies == 0 {
		score += complianceWeightCopies
	} else {
		score += complianceWeightCopies * min(ev.Copies, p.MinBackupCopies) / p.MinBackupCopies
	}
	for _, d := range []struct {
		level  Requirement
		met    bool
		weight int
	}{
		{p.MediaTypes, ev.Rules[ComplianceRuleMediaTypes], complianceWeightMediaTypes},
		{p.Offsite, ev.Rules[ComplianceRuleOffsite], complianceWeightOffsite},
		{p.OfflineOrImmutable, ev.Rules[ComplianceRuleOffline], complianceWeightOffline},
		{p.Verification, ev.Rules[ComplianceRuleZeroErrors], complianceWeightZeroErrors},
	} {
		if d.level == NotRequired || d.met {
			score += d.weight
		}
	}
	return score
}

// complianceFields lists the fields of a validation error, in name order.
func complianceFields(err error) string {
	var ve *store.ValidationError
	if !errors.As(err, &ve) {
		return err.Error()
	}
	parts := make([]string, 0, len(ve.Fields))
	for _, k := range slices.Sorted(maps.Keys(ve.Fields)) {
		parts = append(parts, k+" "+ve.Fields[k])
	}
	return strings.Join(parts, "; ")
}

// complianceAge prints an age past its limit in the largest unit that
// divides the limit: ("12 days", "7"). An age in the limit's last unit reads
// "more than 7 days" rather than an equal number.
func complianceAge(age, limit time.Duration) (ageText, limitText string) {
	u, name := complianceAgeUnit(limit)
	if u == 0 {
		return age.String(), limit.String()
	}
	n, lim := int64(age/u), int64(limit/u)
	if n <= lim {
		return "more than " + complianceCount(lim, name), fmt.Sprint(lim)
	}
	return complianceCount(n, name), fmt.Sprint(lim)
}

// complianceAgeUnit is the unit complianceAge prints an age against limit
// in: the largest of a day, an hour, a minute and a second that divides
// limit, or 0 for none.
func complianceAgeUnit(limit time.Duration) (time.Duration, string) {
	for _, u := range []struct {
		d    time.Duration
		name string
	}{{policyDay, "day"}, {time.Hour, "hour"}, {time.Minute, "minute"}, {time.Second, "second"}} {
		if limit%u.d == 0 {
			return u.d, u.name
		}
	}
	return 0, ""
}

// complianceCount prints n with its noun: "1 day", "12 days", "1 fresh
// backup copy", "0 fresh backup copies".
func complianceCount(n int64, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	if s, ok := strings.CutSuffix(noun, "copy"); ok {
		return fmt.Sprintf("%d %scopies", n, s)
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// complianceDaysBetween is the number of calendar days from a to b.
func complianceDaysBetween(a, b store.Date) int {
	return int(b.Time().Sub(a.Time()) / policyDay)
}

// complianceDaysText says when a day n days from today is: "today", "in 3
// days", "2 days ago".
func complianceDaysText(n int) string {
	switch {
	case n == 0:
		return "today"
	case n > 0:
		return "in " + complianceCount(int64(n), "day")
	default:
		return complianceCount(int64(-n), "day") + " ago"
	}
}
