package backupmgmt_test

import (
	"fmt"
	"math"
	"slices"
	"testing"
	"time"
	_ "time/tzdata" // Asia/Tokyo and America/New_York without a system zone database

	"github.com/stretchr/testify/require"

	"github.com/custos-dev/custos/backupmgmt"
	"github.com/custos-dev/custos/store"
)

// complianceNow is the evaluation time of most tests: noon UTC on a Monday.
var complianceNow = time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)

func complianceDays(n int) time.Duration { return time.Duration(n) * 24 * time.Hour }

func complianceAgo(d time.Duration) *time.Time {
	t := complianceNow.Add(-d)
	return &t
}

func complianceErr(rule, msg string) store.ComplianceReason {
	return store.ComplianceReason{Rule: rule, Severity: "error", Message: msg}
}

func complianceWarn(rule, msg string) store.ComplianceReason {
	return store.ComplianceReason{Rule: rule, Severity: "warning", Message: msg}
}

func complianceDate(s string) store.Date {
	d, err := store.ParseDate(s)
	if err != nil {
		panic(err)
	}
	return d
}

func complianceTestJob(name string) store.Job {
	return store.Job{
		ID:            "job-" + name,
		Name:          name,
		JobType:       store.JobTypeDatabase,
		Tool:          store.ToolRestic,
		Schedule:      store.Schedule{Kind: store.ScheduleInterval, Interval: 24 * time.Hour},
		RetentionDays: 3650,
		Active:        true,
		State:         store.JobStateUp,
	}
}

// complianceInput is a daily job that meets the full 3-2-1-1-0 rule: a NAS
// copy on site, an offsite cloud copy, an offline tape, all written an hour
// ago and encrypted, and a restore test that passed 30 days ago.
func complianceInput() backupmgmt.EvaluationInput {
	job := complianceTestJob("erp-db")
	written := complianceAgo(time.Hour)
	return backupmgmt.EvaluationInput{
		Policy: backupmgmt.DefaultPolicy(),
		Job:    job,
		Copies: []store.Copy{
			{ID: "c-nas", JobID: job.ID, Name: "nas", Role: store.CopyRolePrimary, MediaType: store.MediaNAS,
				Encrypted: true, LastWrittenAt: written, Status: store.CopyStatusOK},
			{ID: "c-cloud", JobID: job.ID, Name: "cloud", Role: store.CopyRoleOffsite, MediaType: store.MediaCloudObject,
				Offsite: true, Encrypted: true, LastWrittenAt: written, Status: store.CopyStatusOK},
			{ID: "c-tape", JobID: job.ID, Name: "tape", Role: store.CopyRoleOffline, MediaType: store.MediaTape,
				Offline: true, Encrypted: true, LastWrittenAt: written, Status: store.CopyStatusOK},
		},
		LatestTest: &store.VerificationTest{JobID: job.ID, TestType: store.TestFullRestore, Result: store.TestSuccess,
			TestedAt: complianceNow.Add(-complianceDays(30))},
		Now: complianceNow,
	}
}

// complianceCopyOf returns the copy of in named name, to change it.
func complianceCopyOf(t *testing.T, in *backupmgmt.EvaluationInput, name string) *store.Copy {
	t.Helper()
	i := slices.IndexFunc(in.Copies, func(c store.Copy) bool { return c.Name == name })
	require.GreaterOrEqual(t, i, 0, "no copy %q", name)
	return &in.Copies[i]
}

func complianceDrop(in *backupmgmt.EvaluationInput, name string) {
	in.Copies = slices.DeleteFunc(in.Copies, func(c store.Copy) bool { return c.Name == name })
}

func complianceSchedule(nextDue string, active bool) *store.VerificationSchedule {
	return &store.VerificationSchedule{JobID: "job-erp-db", Frequency: store.FrequencyQuarterly,
		TestType: store.TestFullRestore, NextDueOn: complianceDate(nextDue), Active: active}
}

type complianceCase struct {
	name    string
	modify  func(t *testing.T, in *backupmgmt.EvaluationInput)
	status  store.ComplianceStatus
	score   int
	reasons []store.ComplianceReason
}

func complianceRun(t *testing.T, tests []complianceCase) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			in := complianceInput()
			tt.modify(t, &in)
			ev := backupmgmt.Evaluate(in)
			require.Equal(t, tt.status, ev.Status, "reasons: %v", ev.Reasons)
			require.Equal(t, tt.score, ev.Score)
			require.Equal(t, append([]store.ComplianceReason{}, tt.reasons...), ev.Reasons)
			complianceRequireRecheck(t, in, ev)
		})
	}
}

// complianceRequireRecheck checks that ev.RecheckAt is never late: the
// same input evaluated at any time before it gives the same evaluation.
func complianceRequireRecheck(t *testing.T, in backupmgmt.EvaluationInput, ev backupmgmt.Evaluation) {
	t.Helper()
	var at []time.Time
	if ev.RecheckAt.IsZero() {
		for _, d := range []time.Duration{time.Hour, complianceDays(40), complianceDays(400)} {
			at = append(at, in.Now.Add(d))
		}
	} else {
		require.True(t, ev.RecheckAt.After(in.Now), "recheck %v not after now %v", ev.RecheckAt, in.Now)
		span := ev.RecheckAt.Sub(in.Now)
		for k := range 8 {
			at = append(at, in.Now.Add(span*time.Duration(k)/8))
		}
		at = append(at, ev.RecheckAt.Add(-time.Nanosecond))
	}
	for _, now := range at {
		later := in
		later.Now = now
		got := backupmgmt.Evaluate(later)
		got.RecheckAt = ev.RecheckAt
		require.Equal(t, ev, got, "evaluated at %v, before the recheck time %v", now, ev.RecheckAt)
	}
}

const (
	complianceRule3   = backupmgmt.ComplianceRuleCopies
	complianceRule2   = backupmgmt.ComplianceRuleMediaTypes
	complianceRule1s  = backupmgmt.ComplianceRuleOffsite
	complianceRule1o  = backupmgmt.ComplianceRuleOffline
	complianceRule0   = backupmgmt.ComplianceRuleZeroErrors
	complianceRuleEtc = backupmgmt.ComplianceRulePolicy
)

func TestEvaluate(t *testing.T) {
	t.Parallel()

	complianceRun(t, []complianceCase{
		{
			name:   "CompliantWhenEveryRuleIsMet",
			modify: func(*testing.T, *backupmgmt.EvaluationInput) {},
			status: store.ComplianceCompliant, score: 100,
		},
		{
			name:   "InactivePausedJobIsStillEvaluated",
			modify: func(_ *testing.T, in *backupmgmt.EvaluationInput) { in.Job.Active, in.Job.Paused = false, true },
			status: store.ComplianceCompliant, score: 100,
		},

		// 3: fresh backup copies.
		{
			name:   "TooFewFreshCopiesFail",
			modify: func(_ *testing.T, in *backupmgmt.EvaluationInput) { in.Policy.MinBackupCopies = 4 },
			status: store.ComplianceNonCompliant, score: 18 + 75, // 25 × 3/4 rounded down
			reasons: []store.ComplianceReason{
				complianceErr(complianceRule3, "3 fresh backup copies, policy requires 4"),
			},
		},
		{
			name: "CopiesGetPartialCredit",
			modify: func(_ *testing.T, in *backupmgmt.EvaluationInput) {
				in.Policy.MinBackupCopies = 3
				complianceDrop(in, "nas")
			},
			status: store.ComplianceNonCompliant, score: 16 + 75, // 25 × 2/3 rounded down
			reasons: []store.ComplianceReason{
				complianceErr(complianceRule3, "2 fresh backup copies, policy requires 3"),
			},
		},
		{
			name: "OneCopyFailsThreeDigits",
			modify: func(_ *testing.T, in *backupmgmt.EvaluationInput) {
				complianceDrop(in, "nas")
				complianceDrop(in, "cloud")
			},
			status: store.ComplianceNonCompliant, score: 12 + 0 + 0 + 20 + 15,
			reasons: []store.ComplianceReason{
				complianceErr(complianceRule3, "1 fresh backup copy, policy requires 2"),
				complianceErr(complianceRule2, "1 media type among fresh copies (tape), policy requires 2"),
				complianceErr(complianceRule1s, "no offsite copy configured"),
			},
		},
		{
			name: "StaleCopyThatIsNotNeededWarns",
			modify: func(t *testing.T, in *backupmgmt.EvaluationInput) {
				complianceCopyOf(t, in, "nas").LastWrittenAt = complianceAgo(complianceDays(3))
			},
			status: store.ComplianceWarning, score: 100,
			reasons: []store.ComplianceReason{
				complianceWarn(complianceRule3, "copy `nas` last written 3 days ago, limit 2"),
			},
		},
		{
			name: "NoCopiesAtAllFail",
			modify: func(_ *testing.T, in *backupmgmt.EvaluationInput) {
				in.Copies = nil
			},
			status: store.ComplianceNonCompliant, score: 15,
			reasons: []store.ComplianceReason{
				complianceErr(complianceRule3, "no copies configured, policy requires 2 fresh backup copies"),
				complianceErr(complianceRule2, "0 media types among fresh copies, policy requires 2"),
				complianceErr(complianceRule1s, "no offsite copy configured"),
				complianceErr(complianceRule1o, "no offline or immutable copy configured"),
				complianceWarn(complianceRuleEtc, "no copies configured to encrypt"),
			},
		},

		// 2: media types.
		{
			name: "OneMediaTypeFails",
			modify: func(t *testing.T, in *backupmgmt.EvaluationInput) {
				complianceCopyOf(t, in, "cloud").MediaType = store.MediaNAS
				complianceCopyOf(t, in, "tape").MediaType = store.MediaNAS
			},
			status: store.ComplianceNonCompliant, score: 80,
			reasons: []store.ComplianceReason{
				complianceErr(complianceRule2, "1 media type among fresh copies (nas), policy requires 2"),
			},
		},
		{
			name: "MediaTypesCountOnlyFreshCopies",
			modify: func(t *testing.T, in *backupmgmt.EvaluationInput) {
				in.Policy.MinMediaTypes = 3
				complianceCopyOf(t, in, "nas").LastWrittenAt = complianceAgo(complianceDays(3))
			},
			status: store.ComplianceNonCompliant, score: 80,
			reasons: []store.ComplianceReason{
				complianceWarn(complianceRule3, "copy `nas` last written 3 days ago, limit 2"),
				complianceErr(complianceRule2, "2 media types among fresh copies (cloud_object, tape), policy requires 3"),
			},
		},

		// 1: offsite.
		{
			name:   "NoOffsiteCopyFails",
			modify: func(t *testing.T, in *backupmgmt.EvaluationInput) { complianceCopyOf(t, in, "cloud").Offsite = false },
			status: store.ComplianceNonCompliant, score: 80,
			reasons: []store.ComplianceReason{
				complianceErr(complianceRule1s, "no offsite copy configured"),
			},
		},
		{
			name: "StaleOffsiteCopyFails",
			modify: func(t *testing.T, in *backupmgmt.EvaluationInput) {
				complianceCopyOf(t, in, "cloud").LastWrittenAt = complianceAgo(complianceDays(3))
			},
			status: store.ComplianceNonCompliant, score: 80,
			reasons: []store.ComplianceReason{
				complianceWarn(complianceRule3, "copy `cloud` last written 3 days ago, limit 2"),
				complianceErr(complianceRule1s, "no fresh offsite copy"),
			},
		},
		{
			name: "RecommendedOffsiteOnlyWarns",
			modify: func(t *testing.T, in *backupmgmt.EvaluationInput) {
				in.Policy.Offsite = backupmgmt.Recommended
				complianceCopyOf(t, in, "cloud").Offsite = false
			},
			status: store.ComplianceWarning, score: 80,
			reasons: []store.ComplianceReason{
				complianceWarn(complianceRule1s, "no offsite copy configured"),
			},
		},

		// 1: offline or immutable.
		{
			name:   "NoOfflineCopyFails",
			modify: func(_ *testing.T, in *backupmgmt.EvaluationInput) { complianceDrop(in, "tape") },
			status: store.ComplianceNonCompliant, score: 80,
			reasons: []store.ComplianceReason{
				complianceErr(complianceRule1o, "no offline or immutable copy configured"),
			},
		},
		{
			name: "ImmutableWithoutEndCounts",
			modify: func(t *testing.T, in *backupmgmt.EvaluationInput) {
				complianceDrop(in, "tape")
				complianceCopyOf(t, in, "cloud").Immutable = true
			},
			status: store.ComplianceCompliant, score: 100,
		},
		{
			name: "ImmutableUntilTheFutureCounts",
			modify: func(t *testing.T, in *backupmgmt.EvaluationInput) {
				complianceDrop(in, "tape")
				c := complianceCopyOf(t, in, "cloud")
				c.Immutable, c.ImmutableUntil = true, complianceAgo(-time.Microsecond)
			},
			status: store.ComplianceCompliant, score: 100,
		},
		{
			name: "ImmutableUntilThePastFails",
			modify: func(t *testing.T, in *backupmgmt.EvaluationInput) {
				complianceDrop(in, "tape")
				c := complianceCopyOf(t, in, "cloud")
				c.Immutable, c.ImmutableUntil = true, complianceAgo(complianceDays(1))
			},
			status: store.ComplianceNonCompliant, score: 80,
			reasons: []store.ComplianceReason{
				complianceErr(complianceRule1o, "copy `cloud` immutable until 2026-11-29, which has passed"),
				complianceErr(complianceRule1o, "no fresh offline or immutable copy"),
			},
		},
		{
			name: "ImmutableUntilNowHasEnded",
			modify: func(t *testing.T, in *backupmgmt.EvaluationInput) {
				complianceDrop(in, "tape")
				c := complianceCopyOf(t, in, "cloud")
				c.Immutable, c.ImmutableUntil = true, complianceAgo(0)
			},
			status: store.ComplianceNonCompliant, score: 80,
			reasons: []store.ComplianceReason{
				complianceErr(complianceRule1o, "copy `cloud` immutable until 2026-11-30, which has passed"),
				complianceErr(complianceRule1o, "no fresh offline or immutable copy"),
			},
		},
		{
			name: "StaleOfflineCopyFails",
			modify: func(t *testing.T, in *backupmgmt.EvaluationInput) {
				complianceCopyOf(t, in, "tape").LastWrittenAt = complianceAgo(complianceDays(8))
			},
			status: store.ComplianceNonCompliant, score: 80,
			reasons: []store.ComplianceReason{
				complianceWarn(complianceRule1o, "copy `tape` last written 8 days ago, limit 7"),
				complianceErr(complianceRule1o, "no fresh offline or immutable copy"),
			},
		},
		{
			name: "StaleOfflineCopyThatIsOtherwiseFineWarns",
			modify: func(t *testing.T, in *backupmgmt.EvaluationInput) {
				complianceCopyOf(t, in, "cloud").Immutable = true
				tape := complianceCopyOf(t, in, "tape")
				tape.Name, tape.LastWrittenAt = "tape-weekly", complianceAgo(complianceDays(12))
			},
			status: store.ComplianceWarning, score: 100,
			reasons: []store.ComplianceReason{
				complianceWarn(complianceRule1o, "copy `tape-weekly` last written 12 days ago, limit 7"),
			},
		},
		{
			name: "NeverWrittenCopyIsNotFresh",
			modify: func(t *testing.T, in *backupmgmt.EvaluationInput) {
				complianceCopyOf(t, in, "tape").LastWrittenAt = nil
			},
			status: store.ComplianceNonCompliant, score: 80,
			reasons: []store.ComplianceReason{
				complianceWarn(complianceRule1o, "copy `tape` has never been written"),
				complianceErr(complianceRule1o, "no fresh offline or immutable copy"),
			},
		},

		// 0: verification and failed copies.
		{
			name:   "FailedTestFails",
			modify: func(_ *testing.T, in *backupmgmt.EvaluationInput) { in.LatestTest.Result = store.TestFailed },
			status: store.ComplianceNonCompliant, score: 85,
			reasons: []store.ComplianceReason{
				complianceErr(complianceRule0, "latest restore test 2026-10-31 failed"),
			},
		},
		{
			name:   "UnknownTestResultFails",
			modify: func(_ *testing.T, in *backupmgmt.EvaluationInput) { in.LatestTest.Result = "skipped" },
			status: store.ComplianceNonCompliant, score: 85,
			reasons: []store.ComplianceReason{
				complianceErr(complianceRule0, `latest restore test 2026-10-31 has unknown result "skipped"`),
			},
		},
		{
			name:   "NoTestFails",
			modify: func(_ *testing.T, in *backupmgmt.EvaluationInput) { in.LatestTest = nil },
			status: store.ComplianceNonCompliant, score: 85,
			reasons: []store.ComplianceReason{
				complianceErr(complianceRule0, "no restore test recorded"),
			},
		},
		{
			name: "NoTestOnlyWarnsWhenRecommended",
			modify: func(_ *testing.T, in *backupmgmt.EvaluationInput) {
				in.Policy.Verification = backupmgmt.Recommended
				in.LatestTest = nil
			},
			status: store.ComplianceWarning, score: 85,
			reasons: []store.ComplianceReason{
				complianceWarn(complianceRule0, "no restore test recorded"),
			},
		},
		{
			name:   "TestWithWarningsPassesWithAWarning",
			modify: func(_ *testing.T, in *backupmgmt.EvaluationInput) { in.LatestTest.Result = store.TestWarning },
			status: store.ComplianceWarning, score: 100,
			reasons: []store.ComplianceReason{
				complianceWarn(complianceRule0, "latest restore test 2026-10-31 passed with warnings"),
			},
		},
		{
			name: "OldTestWithoutScheduleFails",
			modify: func(_ *testing.T, in *backupmgmt.EvaluationInput) {
				in.LatestTest.TestedAt = complianceNow.Add(-complianceDays(100))
			},
			status: store.ComplianceNonCompliant, score: 85,
			reasons: []store.ComplianceReason{
				complianceErr(complianceRule0, "latest restore test 2026-08-22 is 100 days old, limit 92"),
			},
		},
		{
			name: "TestExactlyMaxAgeOldIsDueToday",
			modify: func(_ *testing.T, in *backupmgmt.EvaluationInput) {
				in.LatestTest.TestedAt = complianceNow.Add(-complianceDays(92))
			},
			status: store.ComplianceWarning, score: 100,
			reasons: []store.ComplianceReason{
				complianceWarn(complianceRule0, "restore test due 2026-11-30 (today)"),
			},
		},
		{
			name: "TestJustPastMaxAgeFails",
			modify: func(_ *testing.T, in *backupmgmt.EvaluationInput) {
				in.LatestTest.TestedAt = complianceNow.Add(-complianceDays(92) - time.Microsecond)
			},
			status: store.ComplianceNonCompliant, score: 85,
			reasons: []store.ComplianceReason{
				complianceErr(complianceRule0, "latest restore test 2026-08-30 is more than 92 days old, limit 92"),
			},
		},
		{
			name: "TestDueSoonWithoutScheduleWarns",
			modify: func(_ *testing.T, in *backupmgmt.EvaluationInput) {
				in.LatestTest.TestedAt = complianceNow.Add(-complianceDays(89))
			},
			status: store.ComplianceWarning, score: 100,
			reasons: []store.ComplianceReason{
				complianceWarn(complianceRule0, "restore test due 2026-12-03 (in 3 days)"),
			},
		},
		{
			name: "TestDueInEightDaysIsFine",
			modify: func(_ *testing.T, in *backupmgmt.EvaluationInput) {
				in.LatestTest.TestedAt = complianceNow.Add(-complianceDays(84))
			},
			status: store.ComplianceCompliant, score: 100,
		},
		{
			name: "ScheduleDueSoonWarns",
			modify: func(_ *testing.T, in *backupmgmt.EvaluationInput) {
				in.Schedule = complianceSchedule("2026-12-03", true)
			},
			status: store.ComplianceWarning, score: 100,
			reasons: []store.ComplianceReason{
				complianceWarn(complianceRule0, "restore test due 2026-12-03 (in 3 days)"),
			},
		},
		{
			name: "ScheduleDueInSevenDaysWarns",
			modify: func(_ *testing.T, in *backupmgmt.EvaluationInput) {
				in.Schedule = complianceSchedule("2026-12-07", true)
			},
			status: store.ComplianceWarning, score: 100,
			reasons: []store.ComplianceReason{
				complianceWarn(complianceRule0, "restore test due 2026-12-07 (in 7 days)"),
			},
		},
		{
			name: "ScheduleDueInEightDaysIsFine",
			modify: func(_ *testing.T, in *backupmgmt.EvaluationInput) {
				in.Schedule = complianceSchedule("2026-12-08", true)
			},
			status: store.ComplianceCompliant, score: 100,
		},
		{
			name: "ScheduleDueTodayWarns",
			modify: func(_ *testing.T, in *backupmgmt.EvaluationInput) {
				in.Schedule = complianceSchedule("2026-11-30", true)
			},
			status: store.ComplianceWarning, score: 100,
			reasons: []store.ComplianceReason{
				complianceWarn(complianceRule0, "restore test due 2026-11-30 (today)"),
			},
		},
		{
			name: "ScheduleOverdueFails",
			modify: func(_ *testing.T, in *backupmgmt.EvaluationInput) {
				in.Schedule = complianceSchedule("2026-11-29", true)
			},
			status: store.ComplianceNonCompliant, score: 85,
			reasons: []store.ComplianceReason{
				complianceErr(complianceRule0, "restore test was due 2026-11-29 (1 day ago)"),
			},
		},
		{
			name: "ScheduleSetsTheCadenceInsteadOfMaxAge",
			modify: func(_ *testing.T, in *backupmgmt.EvaluationInput) {
				in.LatestTest.TestedAt = complianceNow.Add(-complianceDays(200))
				in.Schedule = complianceSchedule("2027-01-31", true)
			},
			status: store.ComplianceCompliant, score: 100,
		},
		{
			name: "InactiveScheduleIsIgnored",
			modify: func(_ *testing.T, in *backupmgmt.EvaluationInput) {
				in.Schedule = complianceSchedule("2026-01-01", false)
			},
			status: store.ComplianceCompliant, score: 100,
		},
		{
			name: "ScheduleWithoutTestFails",
			modify: func(_ *testing.T, in *backupmgmt.EvaluationInput) {
				in.LatestTest = nil
				in.Schedule = complianceSchedule("2026-12-03", true)
			},
			status: store.ComplianceNonCompliant, score: 85,
			reasons: []store.ComplianceReason{
				complianceErr(complianceRule0, "no restore test recorded"),
			},
		},
		{
			name: "FailedTestAndOverdueScheduleBothShow",
			modify: func(_ *testing.T, in *backupmgmt.EvaluationInput) {
				in.LatestTest.Result = store.TestFailed
				in.Schedule = complianceSchedule("2026-11-20", true)
			},
			status: store.ComplianceNonCompliant, score: 85,
			reasons: []store.ComplianceReason{
				complianceErr(complianceRule0, "latest restore test 2026-10-31 failed"),
				complianceErr(complianceRule0, "restore test was due 2026-11-20 (10 days ago)"),
			},
		},
		{
			name: "FailedCopyFailsZeroErrorsAndDoesNotCount",
			modify: func(t *testing.T, in *backupmgmt.EvaluationInput) {
				complianceCopyOf(t, in, "nas").Status = store.CopyStatusFailed
			},
			status: store.ComplianceNonCompliant, score: 85,
			reasons: []store.ComplianceReason{
				complianceErr(complianceRule0, "copy `nas` is in failed state"),
			},
		},
		{
			name: "FailedCopyWithoutVerificationIsEvidence",
			modify: func(t *testing.T, in *backupmgmt.EvaluationInput) {
				in.Policy.Verification = backupmgmt.NotRequired
				complianceCopyOf(t, in, "nas").Status = store.CopyStatusFailed
			},
			status: store.ComplianceWarning, score: 100,
			reasons: []store.ComplianceReason{
				complianceWarn(complianceRule3, "copy `nas` is in failed state"),
			},
		},
		{
			name: "CopiesInWarningOrUnknownStateCount",
			modify: func(t *testing.T, in *backupmgmt.EvaluationInput) {
				complianceCopyOf(t, in, "nas").Status = store.CopyStatusWarning
				complianceCopyOf(t, in, "cloud").Status = store.CopyStatusUnknown
			},
			status: store.ComplianceCompliant, score: 100,
		},

		// Encryption and retention.
		{
			name:   "MissingRecommendedEncryptionWarns",
			modify: func(t *testing.T, in *backupmgmt.EvaluationInput) { complianceCopyOf(t, in, "nas").Encrypted = false },
			status: store.ComplianceWarning, score: 100,
			reasons: []store.ComplianceReason{
				complianceWarn(complianceRuleEtc, "copy `nas` is not encrypted"),
			},
		},
		{
			name: "MissingRequiredEncryptionFails",
			modify: func(t *testing.T, in *backupmgmt.EvaluationInput) {
				in.Policy.Encryption = backupmgmt.Required
				complianceCopyOf(t, in, "nas").Encrypted = false
				complianceCopyOf(t, in, "tape").Encrypted = false
			},
			status: store.ComplianceNonCompliant, score: 100,
			reasons: []store.ComplianceReason{
				complianceErr(complianceRuleEtc, "copy `nas` is not encrypted"),
				complianceErr(complianceRuleEtc, "copy `tape` is not encrypted"),
			},
		},
		{
			name: "ShortRetentionWarns",
			modify: func(_ *testing.T, in *backupmgmt.EvaluationInput) {
				in.Policy.RetentionDays = 3650
				in.Job.RetentionDays = 30
			},
			status: store.ComplianceWarning, score: 100,
			reasons: []store.ComplianceReason{
				complianceWarn(complianceRuleEtc, "retention 30 days, policy minimum 3650 days"),
			},
		},
		{
			name: "UnknownRetentionWarns",
			modify: func(_ *testing.T, in *backupmgmt.EvaluationInput) {
				in.Policy.RetentionDays = 3650
				in.Job.RetentionDays = 0
			},
			status: store.ComplianceWarning, score: 100,
			reasons: []store.ComplianceReason{
				complianceWarn(complianceRuleEtc, "retention unknown, policy minimum 3650 days"),
			},
		},
		{
			name:   "RetentionAtTheMinimumIsFine",
			modify: func(_ *testing.T, in *backupmgmt.EvaluationInput) { in.Policy.RetentionDays = 3650 },
			status: store.ComplianceCompliant, score: 100,
		},
		{
			name:   "UnknownRetentionIsFineWithoutMinimum",
			modify: func(_ *testing.T, in *backupmgmt.EvaluationInput) { in.Job.RetentionDays = 0 },
			status: store.ComplianceCompliant, score: 100,
		},

		// A policy that needs nothing.
		{
			name: "PolicyNeedingNothingIsCompliantWithoutReasons",
			modify: func(_ *testing.T, in *backupmgmt.EvaluationInput) {
				in.Policy = backupmgmt.PresetFor(store.ClassificationPublic)
				in.Copies = nil
				in.LatestTest = nil
			},
			status: store.ComplianceCompliant, score: 100,
		},
		{
			name: "PolicyNeedingNothingIgnoresFailures",
			modify: func(t *testing.T, in *backupmgmt.EvaluationInput) {
				in.Policy = backupmgmt.PresetFor(store.ClassificationPublic)
				in.LatestTest.Result = store.TestFailed
				in.Schedule = complianceSchedule("2026-01-01", true)
				nas := complianceCopyOf(t, in, "nas")
				nas.Status, nas.Encrypted = store.CopyStatusFailed, false
				complianceCopyOf(t, in, "tape").LastWrittenAt = nil
			},
			status: store.ComplianceCompliant, score: 100,
		},
		{
			name: "PublicStillWarnsAboutUnknownRetention",
			modify: func(_ *testing.T, in *backupmgmt.EvaluationInput) {
				in.Policy = backupmgmt.PresetFor(store.ClassificationPublic)
				in.Job.RetentionDays = 0
			},
			status: store.ComplianceWarning, score: 100,
			reasons: []store.ComplianceReason{
				complianceWarn(complianceRuleEtc, "retention unknown, policy minimum 365 days"),
			},
		},
	})
}

func TestEvaluateFreshness(t *testing.T) {
	t.Parallel()

	staleNAS := func(msg string) []store.ComplianceReason {
		return []store.ComplianceReason{complianceWarn(complianceRule3, msg)}
	}
	complianceRun(t, []complianceCase{
		{
			name: "ExactlyTwoIntervalsIsFresh",
			modify: func(t *testing.T, in *backupmgmt.EvaluationInput) {
				complianceCopyOf(t, in, "nas").LastWrittenAt = complianceAgo(48 * time.Hour)
			},
			status: store.ComplianceCompliant, score: 100,
		},
		{
			name: "OneMicrosecondPastTwoIntervalsIsStale",
			modify: func(t *testing.T, in *backupmgmt.EvaluationInput) {
				complianceCopyOf(t, in, "nas").LastWrittenAt = complianceAgo(48*time.Hour + time.Microsecond)
			},
			status: store.ComplianceWarning, score: 100,
			reasons: staleNAS("copy `nas` last written more than 2 days ago, limit 2"),
		},
		{
			name: "RPOTargetIsTheWindow",
			modify: func(t *testing.T, in *backupmgmt.EvaluationInput) {
				in.Job.RPOTarget = 6 * time.Hour
				complianceCopyOf(t, in, "nas").LastWrittenAt = complianceAgo(6 * time.Hour)
			},
			status: store.ComplianceCompliant, score: 100,
		},
		{
			name: "OneMicrosecondPastTheRPOIsStale",
			modify: func(t *testing.T, in *backupmgmt.EvaluationInput) {
				in.Job.RPOTarget = 6 * time.Hour
				complianceCopyOf(t, in, "nas").LastWrittenAt = complianceAgo(6*time.Hour + time.Microsecond)
			},
			status: store.ComplianceWarning, score: 100,
			reasons: staleNAS("copy `nas` last written more than 6 hours ago, limit 6"),
		},
		{
			name: "RPOInMinutesPrintsMinutes",
			modify: func(t *testing.T, in *backupmgmt.EvaluationInput) {
				in.Job.RPOTarget = 90 * time.Minute
				in.Copies = slices.DeleteFunc(in.Copies, func(c store.Copy) bool { return c.Name == "tape" })
				complianceCopyOf(t, in, "cloud").Immutable = true
				complianceCopyOf(t, in, "nas").LastWrittenAt = complianceAgo(3 * time.Hour)
			},
			status: store.ComplianceNonCompliant, score: 12 + 0 + 20 + 20 + 15,
			reasons: []store.ComplianceReason{
				complianceErr(complianceRule3, "1 fresh backup copy, policy requires 2"),
				complianceWarn(complianceRule3, "copy `nas` last written 180 minutes ago, limit 90"),
				complianceErr(complianceRule2, "1 media type among fresh copies (cloud_object), policy requires 2"),
			},
		},
		{
			name: "CronJobGetsTwoDays",
			modify: func(t *testing.T, in *backupmgmt.EvaluationInput) {
				in.Job.Schedule = store.Schedule{Kind: store.ScheduleCron, Cron: "0 2 * * *", Timezone: "Asia/Tokyo"}
				complianceCopyOf(t, in, "nas").LastWrittenAt = complianceAgo(48 * time.Hour)
			},
			status: store.ComplianceCompliant, score: 100,
		},
		{
			name: "CronJobCopyOlderThanTwoDaysIsStale",
			modify: func(t *testing.T, in *backupmgmt.EvaluationInput) {
				in.Job.Schedule = store.Schedule{Kind: store.ScheduleCron, Cron: "0 2 * * *"}
				complianceCopyOf(t, in, "nas").LastWrittenAt = complianceAgo(72 * time.Hour)
			},
			status: store.ComplianceWarning, score: 100,
			reasons: staleNAS("copy `nas` last written 3 days ago, limit 2"),
		},
		{
			name: "CronJobWithRPOUsesTheRPO",
			modify: func(t *testing.T, in *backupmgmt.EvaluationInput) {
				in.Job.Schedule = store.Schedule{Kind: store.ScheduleCron, Cron: "0 2 * * 0"}
				in.Job.RPOTarget = complianceDays(8)
				complianceCopyOf(t, in, "nas").LastWrittenAt = complianceAgo(complianceDays(8))
			},
			status: store.ComplianceCompliant, score: 100,
		},
		{
			name: "CustomMultiplierWidensTheWindow",
			modify: func(t *testing.T, in *backupmgmt.EvaluationInput) {
				in.Policy.FreshnessFallbackMultiplier = 3
				complianceCopyOf(t, in, "nas").LastWrittenAt = complianceAgo(72*time.Hour + time.Second)
			},
			status: store.ComplianceWarning, score: 100,
			reasons: staleNAS("copy `nas` last written more than 3 days ago, limit 3"),
		},
		{
			name: "OfflineCopyExactlySevenDaysOldIsFresh",
			modify: func(t *testing.T, in *backupmgmt.EvaluationInput) {
				complianceCopyOf(t, in, "tape").LastWrittenAt = complianceAgo(complianceDays(7))
			},
			status: store.ComplianceCompliant, score: 100,
		},
		{
			name: "OfflineCopyOneMicrosecondPastSevenDaysIsStale",
			modify: func(t *testing.T, in *backupmgmt.EvaluationInput) {
				complianceCopyOf(t, in, "tape").LastWrittenAt = complianceAgo(complianceDays(7) + time.Microsecond)
			},
			status: store.ComplianceNonCompliant, score: 80,
			reasons: []store.ComplianceReason{
				complianceWarn(complianceRule1o, "copy `tape` last written more than 7 days ago, limit 7"),
				complianceErr(complianceRule1o, "no fresh offline or immutable copy"),
			},
		},
		{
			name: "ZeroOfflineFreshnessMeansSevenDays",
			modify: func(t *testing.T, in *backupmgmt.EvaluationInput) {
				in.Policy.OfflineFreshness = 0
				complianceCopyOf(t, in, "tape").LastWrittenAt = complianceAgo(complianceDays(7))
			},
			status: store.ComplianceCompliant, score: 100,
		},
		{
			name: "CustomOfflineFreshness",
			modify: func(t *testing.T, in *backupmgmt.EvaluationInput) {
				in.Policy.OfflineFreshness = complianceDays(3)
				complianceCopyOf(t, in, "tape").LastWrittenAt = complianceAgo(complianceDays(4))
			},
			status: store.ComplianceNonCompliant, score: 80,
			reasons: []store.ComplianceReason{
				complianceWarn(complianceRule1o, "copy `tape` last written 4 days ago, limit 3"),
				complianceErr(complianceRule1o, "no fresh offline or immutable copy"),
			},
		},
		{
			name: "OddOfflineFreshnessPrintsDurations",
			modify: func(t *testing.T, in *backupmgmt.EvaluationInput) {
				in.Policy.OfflineFreshness = 100*time.Hour + 500*time.Millisecond
				complianceCopyOf(t, in, "tape").LastWrittenAt = complianceAgo(complianceDays(5))
			},
			status: store.ComplianceNonCompliant, score: 80,
			reasons: []store.ComplianceReason{
				complianceWarn(complianceRule1o, "copy `tape` last written 120h0m0s ago, limit 100h0m0.5s"),
				complianceErr(complianceRule1o, "no fresh offline or immutable copy"),
			},
		},
		{
			name: "HugeIntervalDoesNotOverflow",
			modify: func(_ *testing.T, in *backupmgmt.EvaluationInput) {
				in.Job.Schedule.Interval = math.MaxInt64/2 + time.Second
				for i := range in.Copies {
					in.Copies[i].LastWrittenAt = complianceAgo(100 * 365 * complianceDays(1))
				}
			},
			status: store.ComplianceCompliant, score: 100,
		},
		{
			name: "OfflineCopyOfASlowJobGetsTheJobsWindow",
			modify: func(t *testing.T, in *backupmgmt.EvaluationInput) {
				in.Job.Schedule.Interval = complianceDays(7) // so 14 days
				complianceCopyOf(t, in, "nas").LastWrittenAt = complianceAgo(complianceDays(13))
				complianceCopyOf(t, in, "tape").LastWrittenAt = complianceAgo(complianceDays(13))
			},
			status: store.ComplianceCompliant, score: 100,
		},
		{
			name: "OfflineCopyWithAShortRPOGetsSevenDays",
			modify: func(t *testing.T, in *backupmgmt.EvaluationInput) {
				in.Job.RPOTarget = time.Hour
				in.Copies = slices.DeleteFunc(in.Copies, func(c store.Copy) bool { return c.Name != "tape" })
				in.Policy.MinBackupCopies, in.Policy.MinMediaTypes, in.Policy.Offsite = 1, 1, backupmgmt.NotRequired
				complianceCopyOf(t, in, "tape").LastWrittenAt = complianceAgo(complianceDays(6))
			},
			status: store.ComplianceCompliant, score: 100,
		},
		{
			name: "ManualJobWithoutRPOHasNoWindow",
			modify: func(_ *testing.T, in *backupmgmt.EvaluationInput) {
				in.Job.Schedule = store.Schedule{Kind: store.ScheduleManual}
				for i := range in.Copies {
					in.Copies[i].LastWrittenAt = complianceAgo(complianceDays(400))
				}
			},
			status: store.ComplianceCompliant, score: 100,
		},
		{
			name: "ManualJobWithRPOUsesTheRPO",
			modify: func(t *testing.T, in *backupmgmt.EvaluationInput) {
				in.Job.Schedule = store.Schedule{Kind: store.ScheduleManual}
				in.Job.RPOTarget = 24 * time.Hour
				complianceCopyOf(t, in, "nas").LastWrittenAt = complianceAgo(complianceDays(2))
			},
			status: store.ComplianceWarning, score: 100,
			reasons: staleNAS("copy `nas` last written 2 days ago, limit 1"),
		},
		{
			name: "WrittenInTheFutureIsFresh",
			modify: func(t *testing.T, in *backupmgmt.EvaluationInput) {
				complianceCopyOf(t, in, "nas").LastWrittenAt = complianceAgo(-time.Minute)
			},
			status: store.ComplianceCompliant, score: 100,
		},
		{
			name: "FailedCopyJustWrittenIsNotFresh",
			modify: func(t *testing.T, in *backupmgmt.EvaluationInput) {
				in.Policy.MinBackupCopies = 3
				complianceCopyOf(t, in, "nas").Status = store.CopyStatusFailed
			},
			status: store.ComplianceNonCompliant, score: 16 + 60,
			reasons: []store.ComplianceReason{
				complianceErr(complianceRule3, "2 fresh backup copies, policy requires 3"),
				complianceErr(complianceRule0, "copy `nas` is in failed state"),
			},
		},
	})
}

func TestEvaluateReportsFacts(t *testing.T) {
	t.Parallel()

	t.Run("EveryRuleMet", func(t *testing.T) {
		t.Parallel()

		ev := backupmgmt.Evaluate(complianceInput())
		require.Equal(t, backupmgmt.Evaluation{
			Status:             store.ComplianceCompliant,
			Copies:             3,
			MediaTypes:         3,
			Offsite:            true,
			OfflineOrImmutable: true,
			Verified:           true,
			Encrypted:          true,
			Rules: map[string]bool{
				complianceRule3: true, complianceRule2: true, complianceRule1s: true, complianceRule1o: true, complianceRule0: true,
			},
			Score:   100,
			Reasons: []store.ComplianceReason{},
			// The copies, written an hour ago, go stale after twice the
			// daily interval.
			RecheckAt: complianceNow.Add(47*time.Hour + time.Nanosecond),
		}, ev)
	})

	t.Run("NotRequiredRulesReportTheFact", func(t *testing.T) {
		t.Parallel()

		in := complianceInput()
		in.Policy = backupmgmt.PresetFor(store.ClassificationPublic)
		in.Copies, in.LatestTest = nil, nil
		ev := backupmgmt.Evaluate(in)
		require.Equal(t, store.ComplianceCompliant, ev.Status)
		require.Equal(t, 100, ev.Score)
		require.Equal(t, map[string]bool{
			complianceRule3: true, complianceRule2: true, complianceRule1s: false, complianceRule1o: false, complianceRule0: false,
		}, ev.Rules)
		require.False(t, ev.Encrypted)
		require.NotNil(t, ev.Reasons)
		require.Empty(t, ev.Reasons)
	})

	t.Run("StaleAndFailedCopiesDoNotCount", func(t *testing.T) {
		t.Parallel()

		in := complianceInput()
		complianceCopyOf(t, &in, "nas").Status = store.CopyStatusFailed
		complianceCopyOf(t, &in, "tape").LastWrittenAt = complianceAgo(complianceDays(30))
		ev := backupmgmt.Evaluate(in)
		require.Equal(t, 1, ev.Copies)
		require.Equal(t, 1, ev.MediaTypes)
		require.True(t, ev.Offsite)
		require.False(t, ev.OfflineOrImmutable)
		require.False(t, ev.Verified)
		require.True(t, ev.Encrypted)
		require.Equal(t, map[string]bool{
			complianceRule3: false, complianceRule2: false, complianceRule1s: true, complianceRule1o: false, complianceRule0: false,
		}, ev.Rules)
		require.Equal(t, 12+0+20+0+0, ev.Score)
	})

	t.Run("TestWithWarningsCountsAsVerified", func(t *testing.T) {
		t.Parallel()

		in := complianceInput()
		in.LatestTest.Result = store.TestWarning
		ev := backupmgmt.Evaluate(in)
		require.True(t, ev.Verified)
		require.True(t, ev.Rules[complianceRule0])
	})
}

func TestEvaluateRejectsAnInvalidPolicy(t *testing.T) {
	t.Parallel()

	in := complianceInput()
	in.Policy = backupmgmt.Policy{}
	ev := backupmgmt.Evaluate(in)
	require.Equal(t, store.ComplianceUnknown, ev.Status)
	require.Zero(t, ev.Score)
	require.Equal(t, []store.ComplianceReason{complianceErr(complianceRuleEtc,
		`invalid policy: copies must be "required", "recommended" or "not_required"; `+
			`encryption must be "required", "recommended" or "not_required"; `+
			`media_types must be "required", "recommended" or "not_required"; `+
			`min_backup_copies must be at least 1 unless copies is not_required; `+
			`min_media_types must be at least 1 unless media_types is not_required; `+
			`offline_or_immutable must be "required", "recommended" or "not_required"; `+
			`offsite must be "required", "recommended" or "not_required"; `+
			`verification must be "required", "recommended" or "not_required"`)}, ev.Reasons)
	require.Len(t, ev.Rules, 5)
	for rule, met := range ev.Rules {
		require.False(t, met, rule)
	}
}

// TestEvaluatePresets runs each preset on the same two jobs: a decent one
// with an onsite and an offsite copy but nothing offline, and a weak one
// with a single unencrypted copy, no restore test and short retention.
func TestEvaluatePresets(t *testing.T) {
	t.Parallel()

	decent := func() backupmgmt.EvaluationInput {
		in := complianceInput()
		complianceDrop(&in, "tape")
		return in
	}
	weak := func() backupmgmt.EvaluationInput {
		in := complianceInput()
		complianceDrop(&in, "tape")
		complianceDrop(&in, "cloud")
		complianceCopyOf(t, &in, "nas").Encrypted = false
		in.LatestTest = nil
		in.Job.RetentionDays = 400
		return in
	}
	tests := []struct {
		name    string
		input   func() backupmgmt.EvaluationInput
		policy  backupmgmt.Policy
		status  store.ComplianceStatus
		score   int
		reasons []store.ComplianceReason
	}{
		{
			name: "DecentJobIsNonCompliantByDefault", input: decent, policy: backupmgmt.DefaultPolicy(),
			status: store.ComplianceNonCompliant, score: 80,
			reasons: []store.ComplianceReason{complianceErr(complianceRule1o, "no offline or immutable copy configured")},
		},
		{
			name: "DecentJobIsNonCompliantWhenRestricted", input: decent, policy: backupmgmt.PresetFor(store.ClassificationRestricted),
			status: store.ComplianceNonCompliant, score: 80,
			reasons: []store.ComplianceReason{complianceErr(complianceRule1o, "no offline or immutable copy configured")},
		},
		{
			name: "DecentJobWarnsWhenConfidential", input: decent, policy: backupmgmt.PresetFor(store.ClassificationConfidential),
			status: store.ComplianceWarning, score: 80,
			reasons: []store.ComplianceReason{complianceWarn(complianceRule1o, "no offline or immutable copy configured")},
		},
		{
			name: "DecentJobWarnsWhenInternal", input: decent, policy: backupmgmt.PresetFor(store.ClassificationInternal),
			status: store.ComplianceWarning, score: 80,
			reasons: []store.ComplianceReason{complianceWarn(complianceRule1o, "no offline or immutable copy configured")},
		},
		{
			name: "DecentJobIsCompliantWhenPublic", input: decent, policy: backupmgmt.PresetFor(store.ClassificationPublic),
			status: store.ComplianceCompliant, score: 100,
		},
		{
			name: "WeakJobIsNonCompliantWhenRestricted", input: weak, policy: backupmgmt.PresetFor(store.ClassificationRestricted),
			status: store.ComplianceNonCompliant, score: 12,
			reasons: []store.ComplianceReason{
				complianceErr(complianceRule3, "1 fresh backup copy, policy requires 2"),
				complianceErr(complianceRule2, "1 media type among fresh copies (nas), policy requires 2"),
				complianceErr(complianceRule1s, "no offsite copy configured"),
				complianceErr(complianceRule1o, "no offline or immutable copy configured"),
				complianceErr(complianceRule0, "no restore test recorded"),
				complianceErr(complianceRuleEtc, "copy `nas` is not encrypted"),
				complianceWarn(complianceRuleEtc, "retention 400 days, policy minimum 2555 days"),
			},
		},
		{
			name: "WeakJobIsNonCompliantWhenConfidential", input: weak, policy: backupmgmt.PresetFor(store.ClassificationConfidential),
			status: store.ComplianceNonCompliant, score: 12,
			reasons: []store.ComplianceReason{
				complianceErr(complianceRule3, "1 fresh backup copy, policy requires 2"),
				complianceErr(complianceRule2, "1 media type among fresh copies (nas), policy requires 2"),
				complianceErr(complianceRule1s, "no offsite copy configured"),
				complianceWarn(complianceRule1o, "no offline or immutable copy configured"),
				complianceErr(complianceRule0, "no restore test recorded"),
				complianceErr(complianceRuleEtc, "copy `nas` is not encrypted"),
				complianceWarn(complianceRuleEtc, "retention 400 days, policy minimum 1825 days"),
			},
		},
		{
			name: "WeakJobWarnsWhenInternal", input: weak, policy: backupmgmt.PresetFor(store.ClassificationInternal),
			status: store.ComplianceWarning, score: 45,
			reasons: []store.ComplianceReason{
				complianceWarn(complianceRule1s, "no offsite copy configured"),
				complianceWarn(complianceRule1o, "no offline or immutable copy configured"),
				complianceWarn(complianceRule0, "no restore test recorded"),
				complianceWarn(complianceRuleEtc, "copy `nas` is not encrypted"),
				complianceWarn(complianceRuleEtc, "retention 400 days, policy minimum 1095 days"),
			},
		},
		{
			name: "WeakJobIsCompliantWhenPublic", input: weak, policy: backupmgmt.PresetFor(store.ClassificationPublic),
			status: store.ComplianceCompliant, score: 100,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			in := tt.input()
			in.Policy = tt.policy
			ev := backupmgmt.Evaluate(in)
			require.Equal(t, tt.status, ev.Status)
			require.Equal(t, tt.score, ev.Score)
			require.Equal(t, append([]store.ComplianceReason{}, tt.reasons...), ev.Reasons)
		})
	}
}

// TestEvaluateTodayFollowsLocation checks that due dates are compared with
// the calendar day in Location, and that dates print in it.
func TestEvaluateTodayFollowsLocation(t *testing.T) {
	t.Parallel()

	tokyo, err := time.LoadLocation("Asia/Tokyo")
	require.NoError(t, err)
	newYork, err := time.LoadLocation("America/New_York")
	require.NoError(t, err)

	tests := []struct {
		name     string
		now      time.Time
		loc      *time.Location
		nextDue  string
		testedAt time.Time // zero: 30 days before now
		failed   bool
		reasons  []store.ComplianceReason
	}{
		{
			name: "DueTodayInUTCBeforeMidnight", now: time.Date(2026, 11, 30, 15, 30, 0, 0, time.UTC), loc: nil,
			nextDue: "2026-11-30",
			reasons: []store.ComplianceReason{complianceWarn(complianceRule0, "restore test due 2026-11-30 (today)")},
		},
		{
			name: "OverdueInTokyoAfterItsMidnight", now: time.Date(2026, 11, 30, 15, 30, 0, 0, time.UTC), loc: tokyo,
			nextDue: "2026-11-30",
			reasons: []store.ComplianceReason{complianceErr(complianceRule0, "restore test was due 2026-11-30 (1 day ago)")},
		},
		{
			name: "DueTodayInTokyoJustBeforeItsMidnight", now: time.Date(2026, 11, 30, 14, 59, 59, 999999000, time.UTC), loc: tokyo,
			nextDue: "2026-11-30",
			reasons: []store.ComplianceReason{complianceWarn(complianceRule0, "restore test due 2026-11-30 (today)")},
		},
		{
			name: "DueSoonCountsTokyoDays", now: time.Date(2026, 11, 30, 15, 30, 0, 0, time.UTC), loc: tokyo,
			nextDue: "2026-12-08",
			reasons: []store.ComplianceReason{complianceWarn(complianceRule0, "restore test due 2026-12-08 (in 7 days)")},
		},
		{
			name: "NotYetDueSoonInUTC", now: time.Date(2026, 11, 30, 15, 30, 0, 0, time.UTC), loc: time.UTC,
			nextDue: "2026-12-08",
		},
		{
			// Clocks fell back on 2026-11-01: that day had 25 hours in New York.
			name: "CalendarDaysAcrossTheDSTChange", now: time.Date(2026, 11, 2, 4, 30, 0, 0, time.UTC), loc: newYork,
			nextDue: "2026-11-08",
			reasons: []store.ComplianceReason{complianceWarn(complianceRule0, "restore test due 2026-11-08 (in 7 days)")},
		},
		{
			name: "TestDatePrintsInUTC", now: time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC), loc: nil,
			nextDue: "2026-12-31", testedAt: time.Date(2026, 10, 31, 20, 0, 0, 0, time.UTC), failed: true,
			reasons: []store.ComplianceReason{complianceErr(complianceRule0, "latest restore test 2026-10-31 failed")},
		},
		{
			name: "TestDatePrintsInTokyo", now: time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC), loc: tokyo,
			nextDue: "2026-12-31", testedAt: time.Date(2026, 10, 31, 20, 0, 0, 0, time.UTC), failed: true,
			reasons: []store.ComplianceReason{complianceErr(complianceRule0, "latest restore test 2026-11-01 failed")},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			in := complianceInput()
			in.Now, in.Location = tt.now, tt.loc
			for i := range in.Copies {
				w := tt.now.Add(-time.Hour)
				in.Copies[i].LastWrittenAt = &w
			}
			in.LatestTest.TestedAt = tt.now.Add(-complianceDays(30))
			if !tt.testedAt.IsZero() {
				in.LatestTest.TestedAt = tt.testedAt
			}
			if tt.failed {
				in.LatestTest.Result = store.TestFailed
			}
			in.Schedule = complianceSchedule(tt.nextDue, true)
			ev := backupmgmt.Evaluate(in)
			require.Equal(t, append([]store.ComplianceReason{}, tt.reasons...), ev.Reasons)
		})
	}
}

func TestEvaluateReasonsAreSorted(t *testing.T) {
	t.Parallel()

	in := complianceInput()
	in.Policy.RetentionDays = 3650
	in.Policy.MinMediaTypes = 4
	in.Job.RetentionDays = 10
	in.LatestTest.Result = store.TestFailed
	in.Schedule = complianceSchedule("2026-11-01", true)
	in.Copies = append(in.Copies,
		store.Copy{Name: "usb", MediaType: store.MediaUSB, Offline: true, Status: store.CopyStatusFailed},
		store.Copy{Name: "archive", MediaType: store.MediaOptical, Status: store.CopyStatusOK,
			LastWrittenAt: complianceAgo(complianceDays(5))},
	)
	complianceCopyOf(t, &in, "tape").LastWrittenAt = complianceAgo(complianceDays(9))
	complianceCopyOf(t, &in, "nas").Encrypted = false

	want := []store.ComplianceReason{
		complianceWarn(complianceRule3, "copy `archive` last written 5 days ago, limit 2"),
		complianceErr(complianceRule2, "2 media types among fresh copies (cloud_object, nas), policy requires 4"),
		complianceWarn(complianceRule1o, "copy `tape` last written 9 days ago, limit 7"),
		complianceErr(complianceRule1o, "no fresh offline or immutable copy"),
		complianceErr(complianceRule0, "copy `usb` is in failed state"),
		complianceErr(complianceRule0, "latest restore test 2026-10-31 failed"),
		complianceErr(complianceRule0, "restore test was due 2026-11-01 (29 days ago)"),
		complianceWarn(complianceRuleEtc, "copy `archive` is not encrypted"),
		complianceWarn(complianceRuleEtc, "copy `nas` is not encrypted"),
		complianceWarn(complianceRuleEtc, "copy `usb` is not encrypted"),
		complianceWarn(complianceRuleEtc, "retention 10 days, policy minimum 3650 days"),
	}
	ev := backupmgmt.Evaluate(in)
	require.Equal(t, want, ev.Reasons)

	for range 5 {
		shuffled := in
		shuffled.Copies = slices.Clone(in.Copies)
		slices.Reverse(shuffled.Copies)
		shuffled.Copies[0], shuffled.Copies[2] = shuffled.Copies[2], shuffled.Copies[0]
		require.Equal(t, ev, backupmgmt.Evaluate(shuffled))
	}
}

func TestEvaluationState(t *testing.T) {
	t.Parallel()

	in := complianceInput()
	in.LatestTest.Result = store.TestFailed
	ev := backupmgmt.Evaluate(in)
	at := time.Date(2026, 11, 30, 21, 0, 0, 123456789, time.FixedZone("JST", 9*3600))

	st := ev.State(store.SubjectJob, "job-erp-db", at)
	want := time.Date(2026, 11, 30, 12, 0, 0, 123456000, time.UTC)
	require.Equal(t, store.ComplianceState{
		SubjectType:        store.SubjectJob,
		SubjectID:          "job-erp-db",
		Status:             store.ComplianceNonCompliant,
		Copies:             3,
		MediaTypes:         3,
		Offsite:            true,
		OfflineOrImmutable: true,
		Verified:           false,
		Score:              85,
		Reasons:            []store.ComplianceReason{complianceErr(complianceRule0, "latest restore test 2026-10-31 failed")},
		EvaluatedAt:        want,
		ChangedAt:          want,
	}, st)
	require.NoError(t, st.Validate())

	st.Reasons[0].Message = "changed"
	require.Equal(t, "latest restore test 2026-10-31 failed", ev.Reasons[0].Message, "State must copy the reasons")
}

// complianceAssetJobs is an ERP asset of two daily jobs: the database on a
// NAS, the files in immutable cloud storage. Neither meets 3-2-1-1-0 alone;
// together they do.
func complianceAssetJobs() []backupmgmt.AssetJobInput {
	db, files := complianceTestJob("erp-db"), complianceTestJob("erp-files")
	written := complianceAgo(time.Hour)
	tested := complianceNow.Add(-complianceDays(30))
	return []backupmgmt.AssetJobInput{
		{
			Job: db,
			Copies: []store.Copy{{JobID: db.ID, Name: "nas", MediaType: store.MediaNAS, Encrypted: true,
				LastWrittenAt: written, Status: store.CopyStatusOK}},
			LatestTest: &store.VerificationTest{JobID: db.ID, Result: store.TestSuccess, TestedAt: tested},
		},
		{
			Job: files,
			Copies: []store.Copy{{JobID: files.ID, Name: "cloud", MediaType: store.MediaCloudObject, Offsite: true,
				Immutable: true, Encrypted: true, LastWrittenAt: written, Status: store.CopyStatusOK}},
			LatestTest: &store.VerificationTest{JobID: files.ID, Result: store.TestSuccess, TestedAt: tested},
		},
	}
}

func TestEvaluateAsset(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name    string
		policy  backupmgmt.Policy
		modify  func(jobs []backupmgmt.AssetJobInput) []backupmgmt.AssetJobInput
		status  store.ComplianceStatus
		score   int
		copies  int
		reasons []store.ComplianceReason
	}{
		{
			name: "UnionOfCopiesMeetsTheRule", policy: backupmgmt.DefaultPolicy(),
			modify: func(jobs []backupmgmt.AssetJobInput) []backupmgmt.AssetJobInput { return jobs },
			status: store.ComplianceCompliant, score: 100, copies: 2,
		},
		{
			name: "EveryJobMustBeVerified", policy: backupmgmt.DefaultPolicy(),
			modify: func(jobs []backupmgmt.AssetJobInput) []backupmgmt.AssetJobInput {
				jobs[1].LatestTest.Result = store.TestFailed
				return jobs
			},
			status: store.ComplianceNonCompliant, score: 85, copies: 2,
			reasons: []store.ComplianceReason{
				complianceErr(complianceRule0, "job `erp-files`: latest restore test 2026-10-31 failed"),
			},
		},
		{
			name: "ReasonsNameTheJob", policy: backupmgmt.PresetFor(store.ClassificationRestricted),
			modify: func(jobs []backupmgmt.AssetJobInput) []backupmgmt.AssetJobInput {
				jobs[0].LatestTest = nil
				jobs[0].Copies[0].LastWrittenAt = complianceAgo(complianceDays(3))
				jobs[1].Copies[0].Encrypted = false
				jobs[1].Copies[0].Status = store.CopyStatusFailed
				jobs[1].Job.RetentionDays = 30
				return jobs
			},
			status: store.ComplianceNonCompliant, score: 0 + 0 + 0 + 0 + 0, copies: 0,
			reasons: []store.ComplianceReason{
				complianceErr(complianceRule3, "0 fresh backup copies, policy requires 2"),
				complianceWarn(complianceRule3, "job `erp-db`: copy `nas` last written 3 days ago, limit 2"),
				complianceErr(complianceRule2, "0 media types among fresh copies, policy requires 2"),
				complianceErr(complianceRule1s, "no fresh offsite copy"),
				complianceErr(complianceRule1o, "no fresh offline or immutable copy"),
				complianceErr(complianceRule0, "job `erp-db`: no restore test recorded"),
				complianceErr(complianceRule0, "job `erp-files`: copy `cloud` is in failed state"),
				complianceErr(complianceRuleEtc, "job `erp-files`: copy `cloud` is not encrypted"),
				complianceWarn(complianceRuleEtc, "job `erp-files`: retention 30 days, policy minimum 2555 days"),
			},
		},
		{
			name: "EachCopyIsFreshByItsOwnJob", policy: backupmgmt.DefaultPolicy(),
			modify: func(jobs []backupmgmt.AssetJobInput) []backupmgmt.AssetJobInput {
				jobs[1].Job.Schedule.Interval = complianceDays(7)
				jobs[1].Copies[0].LastWrittenAt = complianceAgo(complianceDays(10))
				return jobs
			},
			status: store.ComplianceCompliant, score: 100, copies: 2,
		},
		{
			name: "SameCopyNameInTwoJobsStaysApart", policy: backupmgmt.DefaultPolicy(),
			modify: func(jobs []backupmgmt.AssetJobInput) []backupmgmt.AssetJobInput {
				jobs[1].Copies[0].Name = "nas"
				jobs[1].Copies[0].LastWrittenAt = complianceAgo(complianceDays(3))
				return jobs
			},
			status: store.ComplianceNonCompliant, score: 12 + 0 + 0 + 0 + 15, copies: 1,
			reasons: []store.ComplianceReason{
				complianceErr(complianceRule3, "1 fresh backup copy, policy requires 2"),
				complianceWarn(complianceRule3, "job `erp-files`: copy `nas` last written 3 days ago, limit 2"),
				complianceErr(complianceRule2, "1 media type among fresh copies (nas), policy requires 2"),
				complianceErr(complianceRule1s, "no fresh offsite copy"),
				complianceErr(complianceRule1o, "no fresh offline or immutable copy"),
			},
		},
		{
			name: "AssetWithoutJobsFails", policy: backupmgmt.DefaultPolicy(),
			modify: func([]backupmgmt.AssetJobInput) []backupmgmt.AssetJobInput { return nil },
			status: store.ComplianceNonCompliant, score: 0,
			reasons: []store.ComplianceReason{
				complianceErr(complianceRule3, "no copies configured, policy requires 2 fresh backup copies"),
				complianceErr(complianceRule2, "0 media types among fresh copies, policy requires 2"),
				complianceErr(complianceRule1s, "no offsite copy configured"),
				complianceErr(complianceRule1o, "no offline or immutable copy configured"),
				complianceErr(complianceRule0, "no jobs protect this asset"),
				complianceWarn(complianceRuleEtc, "no copies configured to encrypt"),
			},
		},
		{
			name: "PublicAssetWithoutJobsIsCompliant", policy: backupmgmt.PresetFor(store.ClassificationPublic),
			modify: func([]backupmgmt.AssetJobInput) []backupmgmt.AssetJobInput { return nil },
			status: store.ComplianceCompliant, score: 100,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			jobs := tt.modify(complianceAssetJobs())
			ev := backupmgmt.EvaluateAsset(tt.policy, jobs, complianceNow, nil)
			require.Equal(t, tt.status, ev.Status)
			require.Equal(t, tt.score, ev.Score)
			require.Equal(t, tt.copies, ev.Copies)
			require.Equal(t, append([]store.ComplianceReason{}, tt.reasons...), ev.Reasons)
		})
	}

	t.Run("NeitherJobAloneIsCompliant", func(t *testing.T) {
		t.Parallel()

		for _, j := range complianceAssetJobs() {
			ev := backupmgmt.Evaluate(backupmgmt.EvaluationInput{
				Policy: backupmgmt.DefaultPolicy(), Job: j.Job, Copies: j.Copies,
				LatestTest: j.LatestTest, Schedule: j.Schedule, Now: complianceNow,
			})
			require.Equal(t, store.ComplianceNonCompliant, ev.Status, j.Job.Name)
		}
	})

	t.Run("MatchesEvaluateForOneJob", func(t *testing.T) {
		t.Parallel()

		in := complianceInput()
		in.LatestTest.Result = store.TestWarning
		job := backupmgmt.Evaluate(in)
		asset := backupmgmt.EvaluateAsset(in.Policy, []backupmgmt.AssetJobInput{{
			Job: in.Job, Copies: in.Copies, LatestTest: in.LatestTest,
		}}, in.Now, nil)
		require.Equal(t, job.Status, asset.Status)
		require.Equal(t, job.Score, asset.Score)
		require.Equal(t, job.Rules, asset.Rules)
		require.Equal(t, []store.ComplianceReason{
			complianceWarn(complianceRule0, "job `erp-db`: latest restore test 2026-10-31 passed with warnings"),
		}, asset.Reasons)
	})

	t.Run("InvalidPolicyIsUnknown", func(t *testing.T) {
		t.Parallel()

		p := backupmgmt.DefaultPolicy()
		p.MinBackupCopies = -1
		ev := backupmgmt.EvaluateAsset(p, complianceAssetJobs(), complianceNow, nil)
		require.Equal(t, store.ComplianceUnknown, ev.Status)
		require.Equal(t, []store.ComplianceReason{
			complianceErr(complianceRuleEtc, "invalid policy: min_backup_copies must not be negative"),
		}, ev.Reasons)
	})
}

func ExampleEvaluate() {
	now := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
	ago := func(d time.Duration) *time.Time { t := now.Add(-d); return &t }
	day := 24 * time.Hour

	ev := backupmgmt.Evaluate(backupmgmt.EvaluationInput{
		Policy: backupmgmt.PresetFor(store.ClassificationConfidential),
		Job: store.Job{
			Name:          "erp-db",
			Schedule:      store.Schedule{Kind: store.ScheduleInterval, Interval: day},
			RetentionDays: 1825,
		},
		Copies: []store.Copy{
			{Name: "nas", MediaType: store.MediaNAS, Encrypted: true,
				LastWrittenAt: ago(3 * time.Hour), Status: store.CopyStatusOK},
			{Name: "s3", MediaType: store.MediaCloudObject, Offsite: true, Immutable: true, Encrypted: true,
				LastWrittenAt: ago(3 * time.Hour), Status: store.CopyStatusOK},
			{Name: "tape-weekly", MediaType: store.MediaTape, Offline: true, Encrypted: true,
				LastWrittenAt: ago(12 * day), Status: store.CopyStatusOK},
		},
		LatestTest: &store.VerificationTest{Result: store.TestSuccess, TestedAt: now.Add(-60 * day)},
		Schedule: &store.VerificationSchedule{Frequency: store.FrequencyQuarterly, Active: true,
			NextDueOn: store.Date{Year: 2026, Month: time.December, Day: 3}},
		Now: now,
	})
	fmt.Println(ev.Status, ev.Score)
	for _, r := range ev.Reasons {
		fmt.Printf("%s %s: %s\n", r.Severity, r.Rule, r.Message)
	}
	// Output:
	// warning 100
	// warning 1offline: copy `tape-weekly` last written 12 days ago, limit 7
	// warning 0errors: restore test due 2026-12-03 (in 3 days)
}
