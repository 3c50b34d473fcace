package backupmgmt

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/custos-dev/custos/store"
	"github.com/custos-dev/custos/store/bunstore/bunstoretest"
	"github.com/custos-dev/custos/store/bunstore/dbopen"
)

// day is a calendar date.
func day(y int, m time.Month, d int) store.Date { return store.Date{Year: y, Month: m, Day: d} }

func TestVerificationNextDue(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		f      store.Frequency
		tested store.Date
		want   store.Date
	}{
		{"MonthlyFromJan31IsFeb28", store.FrequencyMonthly, day(2027, time.January, 31), day(2027, time.February, 28)},
		{"MonthlyFromJan31InALeapYearIsFeb29", store.FrequencyMonthly, day(2028, time.January, 31), day(2028, time.February, 29)},
		{"MonthlyKeepsTheDay", store.FrequencyMonthly, day(2026, time.November, 2), day(2026, time.December, 2)},
		{"QuarterlyFromNov30IsFeb28", store.FrequencyQuarterly, day(2026, time.November, 30), day(2027, time.February, 28)},
		{"QuarterlyFromAug31IsNov30", store.FrequencyQuarterly, day(2026, time.August, 31), day(2026, time.November, 30)},
		{"SemiannualFromAug31IsFeb28", store.FrequencySemiannual, day(2026, time.August, 31), day(2027, time.February, 28)},
		{"AnnualFromFeb29IsFeb28", store.FrequencyAnnual, day(2028, time.February, 29), day(2029, time.February, 28)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, VerificationNextDue(tt.f, tt.tested))
		})
	}
}

// verifCompliance returns the job's stored compliance state.
func (b *testBundle) verifCompliance(t *testing.T, jobID string) *store.ComplianceState {
	t.Helper()
	st, err := b.svc.Compliance().State(t.Context(), store.SubjectJob, jobID)
	require.NoError(t, err)
	return st
}

func TestRecordTest(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, kind dbopen.Kind) {
		t.Run("FailedTestRaisesCriticalAndTheNextPassResolvesIt", func(t *testing.T) {
			t.Parallel()
			b := setup(t, kind, nil)
			alice := b.userFixture(t, "alice", store.RoleOperator)
			ctx := actorCtx(t.Context(), alice)
			job := b.jobFixture(t, "erp-db", nil)
			v := b.svc.Verification()

			sched, err := v.CreateSchedule(ctx, ScheduleParams{JobID: job.ID, Frequency: store.FrequencyMonthly, TestType: store.TestFullRestore})
			require.NoError(t, err)
			require.Equal(t, day(2026, time.December, 2), sched.NextDueOn, "a month from today without a test")
			require.Nil(t, sched.LastTestedOn)
			require.False(t, b.verifCompliance(t, job.ID).Verified)

			b.clock.Advance(24 * time.Hour)
			failed, err := v.RecordTest(ctx, TestParams{
				JobID: job.ID, TestType: store.TestFullRestore, Result: store.TestFailed,
				Duration: 90 * time.Minute, FilesChecked: 100, FilesFailed: 7, Issues: "checksum mismatch",
			})
			require.NoError(t, err)
			require.Equal(t, alice.ID, *failed.TesterID, "the tester defaults to the actor")
			require.Equal(t, b.svc.Now(), failed.TestedAt)
			a := b.unresolved(t, store.AlertVerificationFailed, jobSubject(job.ID))
			require.NotNil(t, a)
			require.Equal(t, store.SeverityCritical, a.Severity)
			require.Equal(t, job.ID, *a.JobID)
			require.Contains(t, a.Message, "7 of 100 files failed: checksum mismatch")
			require.False(t, b.verifCompliance(t, job.ID).Verified)

			got, err := v.GetSchedule(t.Context(), sched.ID)
			require.NoError(t, err)
			require.Equal(t, day(2026, time.November, 3), *got.LastTestedOn, "any test advances the schedule")
			require.Equal(t, day(2026, time.December, 3), got.NextDueOn)

			b.clock.Advance(24 * time.Hour)
			passed, err := v.RecordTest(ctx, TestParams{JobID: job.ID, TestType: store.TestFullRestore, Result: store.TestWarning})
			require.NoError(t, err)
			resolved, err := b.svc.Alerts().Get(t.Context(), a.ID)
			require.NoError(t, err)
			require.Equal(t, store.AlertResolved, resolved.State)
			require.Equal(t, store.ResolvedByAuto, resolved.ResolvedBy)
			require.True(t, b.verifCompliance(t, job.ID).Verified, "the 0 holds after a passing test")

			// a backdated failure is not the latest test: no alert, no schedule move
			_, err = v.RecordTest(ctx, TestParams{
				JobID: job.ID, TestType: store.TestIntegrity, Result: store.TestFailed,
				TestedAt: b.svc.Now().Add(-36 * time.Hour),
			})
			require.NoError(t, err)
			require.Nil(t, b.unresolved(t, store.AlertVerificationFailed, jobSubject(job.ID)))
			got, err = v.GetSchedule(t.Context(), sched.ID)
			require.NoError(t, err)
			require.Equal(t, day(2026, time.November, 4), *got.LastTestedOn)
			require.Equal(t, day(2026, time.December, 4), got.NextDueOn)
			require.True(t, b.verifCompliance(t, job.ID).Verified)

			// deleting the passing test makes the failure latest again: the 0 fails
			require.NoError(t, v.DeleteTest(ctx, passed.ID))
			require.NotNil(t, b.unresolved(t, store.AlertVerificationFailed, jobSubject(job.ID)))
			require.False(t, b.verifCompliance(t, job.ID).Verified)
			page, err := v.ListTests(t.Context(), store.ListVerificationTestsParams{JobID: job.ID})
			require.NoError(t, err)
			require.Len(t, page.Items, 2)
			require.Equal(t, failed.ID, page.Items[0].ID)

			require.Equal(t, []string{
				"verification_schedule.create", "verification.record", "verification.record",
				"verification.record", "verification.delete",
			}, b.auditActions(t))
		})

		t.Run("SchedulesAdvanceByCalendarMonths", func(t *testing.T) {
			t.Parallel()
			b := setup(t, kind, nil)
			ctx := t.Context()
			monthly := b.jobFixture(t, "monthly", nil)
			quarterly := b.jobFixture(t, "quarterly", nil)
			v := b.svc.Verification()
			b.clock.Set(time.Date(2026, time.November, 30, 12, 0, 0, 0, time.UTC))
			_, err := v.RecordTest(ctx, TestParams{JobID: quarterly.ID, TestType: store.TestBoot, Result: store.TestSuccess})
			require.NoError(t, err)
			q, err := v.CreateSchedule(ctx, ScheduleParams{JobID: quarterly.ID, Frequency: store.FrequencyQuarterly, TestType: store.TestBoot})
			require.NoError(t, err)
			require.Equal(t, day(2027, time.February, 28), q.NextDueOn, "from the latest test")
			require.Equal(t, day(2026, time.November, 30), *q.LastTestedOn)

			m, err := v.CreateSchedule(ctx, ScheduleParams{JobID: monthly.ID, Frequency: store.FrequencyMonthly, TestType: store.TestIntegrity})
			require.NoError(t, err)
			b.clock.Set(time.Date(2027, time.January, 31, 8, 0, 0, 0, time.UTC))
			_, err = v.RecordTest(ctx, TestParams{JobID: monthly.ID, TestType: store.TestIntegrity, Result: store.TestSuccess})
			require.NoError(t, err)
			m, err = v.GetSchedule(ctx, m.ID)
			require.NoError(t, err)
			require.Equal(t, day(2027, time.February, 28), m.NextDueOn)

			// a new frequency counts from the last test
			m, err = v.UpdateSchedule(ctx, m.ID, ScheduleUpdate{Frequency: new(store.FrequencySemiannual)})
			require.NoError(t, err)
			require.Equal(t, day(2027, time.July, 31), m.NextDueOn)
		})

		t.Run("RejectsBadInputNamingFieldsAndWritesNothing", func(t *testing.T) {
			t.Parallel()
			b := setup(t, kind, nil)
			ctx := t.Context()
			job := b.jobFixture(t, "erp-db", nil)
			other := b.jobFixture(t, "crm-db", nil)
			c := &store.Copy{JobID: other.ID, Name: "nas", Role: store.CopyRolePrimary, MediaType: store.MediaNAS, Status: store.CopyStatusOK}
			require.NoError(t, b.store.Copies().Create(ctx, c))
			ok := TestParams{JobID: job.ID, TestType: store.TestFullRestore, Result: store.TestSuccess}
			cases := []struct {
				mod   func(p *TestParams)
				field string
			}{
				{func(p *TestParams) { p.JobID = "" }, "job_id"},
				{func(p *TestParams) { p.JobID = "no-such-job" }, "job_id"},
				{func(p *TestParams) { p.CopyID = c.ID }, "copy_id"},
				{func(p *TestParams) { p.CopyID = "no-such-copy" }, "copy_id"},
				{func(p *TestParams) { p.TestType = "smoke" }, "test_type"},
				{func(p *TestParams) { p.Result = "" }, "result"},
				{func(p *TestParams) { p.TestedAt = b.svc.Now().Add(time.Minute) }, "tested_at"},
				{func(p *TestParams) { p.Duration = -time.Second }, "duration_seconds"},
				{func(p *TestParams) { p.FilesChecked = -1 }, "files_checked"},
				{func(p *TestParams) { p.FilesChecked, p.FilesFailed = 3, 4 }, "files_failed"},
				{func(p *TestParams) { p.TesterID = "nobody" }, "tester_id"},
			}
			for _, tc := range cases {
				p := ok
				tc.mod(&p)
				_, err := b.svc.Verification().RecordTest(ctx, p)
				var ve *store.ValidationError
				require.ErrorAs(t, err, &ve, "%+v", p)
				require.Contains(t, ve.Fields, tc.field, "%+v", p)
			}
			page, err := b.svc.Verification().ListTests(ctx, store.ListVerificationTestsParams{})
			require.NoError(t, err)
			require.Empty(t, page.Items)

			_, err = b.svc.Verification().CreateSchedule(ctx, ScheduleParams{JobID: job.ID, Frequency: "weekly", TestType: store.TestBoot})
			var ve *store.ValidationError
			require.ErrorAs(t, err, &ve)
			require.Contains(t, ve.Fields, "frequency")
			_, err = b.svc.Verification().CreateSchedule(ctx, ScheduleParams{JobID: job.ID, Frequency: store.FrequencyAnnual, TestType: store.TestBoot, AssigneeID: "nobody"})
			require.ErrorAs(t, err, &ve)
			require.Contains(t, ve.Fields, "assignee_id")

			_, err = b.svc.Verification().CreateSchedule(ctx, ScheduleParams{JobID: job.ID, Frequency: store.FrequencyAnnual, TestType: store.TestBoot})
			require.NoError(t, err)
			_, err = b.svc.Verification().CreateSchedule(ctx, ScheduleParams{JobID: job.ID, Frequency: store.FrequencyMonthly, TestType: store.TestBoot})
			require.ErrorAs(t, err, &ve)
			require.Equal(t, "already has an active schedule", ve.Fields["job_id"])
			all, err := b.svc.Verification().ListSchedules(ctx, store.ListVerificationSchedulesParams{})
			require.NoError(t, err)
			require.Len(t, all.Items, 1)
			require.Equal(t, []string{"verification_schedule.create"}, b.auditActions(t))
		})
	})
}

func TestVerificationDue(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, kind dbopen.Kind) {
		tokyo, err := time.LoadLocation("Asia/Tokyo")
		require.NoError(t, err)
		b := setup(t, kind, &Config{Location: tokyo})
		// 20:00 UTC on Nov 2 is 05:00 on Nov 3 in Tokyo.
		b.clock.Set(time.Date(2026, time.November, 2, 20, 0, 0, 0, time.UTC))
		require.Equal(t, day(2026, time.November, 3), b.svc.Today())
		ctx := actorCtx(t.Context(), b.userFixture(t, "ops", store.RoleOperator))
		v := b.svc.Verification()

		due := map[string]store.Date{
			"utc-today":    day(2026, time.November, 2), // today in UTC, yesterday in Tokyo: overdue
			"tokyo-today":  day(2026, time.November, 3), // due today: due soon, not overdue
			"in-seven":     day(2026, time.November, 10),
			"in-eight":     day(2026, time.November, 11), // beyond due soon
			"long-overdue": day(2026, time.October, 1),
		}
		jobs := map[string]*store.Job{}
		for name, on := range due {
			jobs[name] = b.jobFixture(t, name, nil)
			_, err := v.CreateSchedule(ctx, ScheduleParams{JobID: jobs[name].ID, Frequency: store.FrequencyMonthly, TestType: store.TestIntegrity, NextDueOn: on})
			require.NoError(t, err)
		}
		inactive := b.jobFixture(t, "inactive", nil)
		sc, err := v.CreateSchedule(ctx, ScheduleParams{JobID: inactive.ID, Frequency: store.FrequencyMonthly, TestType: store.TestIntegrity, NextDueOn: day(2026, time.October, 2)})
		require.NoError(t, err)
		_, err = v.UpdateSchedule(ctx, sc.ID, ScheduleUpdate{Active: new(false)})
		require.NoError(t, err)

		jobOf := func(list []store.VerificationSchedule) []string {
			var out []string
			for _, s := range list {
				for name, j := range jobs {
					if j.ID == s.JobID {
						out = append(out, name)
					}
				}
			}
			return out
		}
		d, err := v.Due(t.Context())
		require.NoError(t, err)
		require.Equal(t, []string{"long-overdue", "utc-today"}, jobOf(d.Overdue))
		require.Equal(t, []string{"tokyo-today", "in-seven"}, jobOf(d.DueSoon))

		n, err := v.TickOverdue(t.Context())
		require.NoError(t, err)
		require.Equal(t, 2, n)
		a := b.unresolved(t, store.AlertVerificationOverdue, jobSubject(jobs["utc-today"].ID))
		require.NotNil(t, a)
		require.Equal(t, store.SeverityWarning, a.Severity)
		require.Contains(t, a.Message, "was due 2026-11-02 (1 day ago)")
		require.Nil(t, b.unresolved(t, store.AlertVerificationOverdue, jobSubject(jobs["tokyo-today"].ID)))
		require.Nil(t, b.unresolved(t, store.AlertVerificationOverdue, jobSubject(inactive.ID)))

		n, err = v.TickOverdue(t.Context())
		require.NoError(t, err)
		require.Equal(t, 2, n)
		a = b.unresolved(t, store.AlertVerificationOverdue, jobSubject(jobs["utc-today"].ID))
		require.Equal(t, 1, a.Occurrences, "the same alert, still overdue: not another occurrence")

		// a test resolves it; moving the other schedule's date does too
		_, err = v.RecordTest(ctx, TestParams{JobID: jobs["utc-today"].ID, TestType: store.TestIntegrity, Result: store.TestSuccess})
		require.NoError(t, err)
		require.Nil(t, b.unresolved(t, store.AlertVerificationOverdue, jobSubject(jobs["utc-today"].ID)))
		list, err := v.ListSchedules(t.Context(), store.ListVerificationSchedulesParams{JobID: jobs["long-overdue"].ID})
		require.NoError(t, err)
		_, err = v.UpdateSchedule(ctx, list.Items[0].ID, ScheduleUpdate{NextDueOn: &store.Date{Year: 2026, Month: time.November, Day: 20}})
		require.NoError(t, err)
		require.Nil(t, b.unresolved(t, store.AlertVerificationOverdue, jobSubject(jobs["long-overdue"].ID)))

		// the day after, in Tokyo, the schedule due "today" is overdue
		b.clock.Advance(24 * time.Hour)
		d, err = v.Due(t.Context())
		require.NoError(t, err)
		require.Equal(t, []string{"tokyo-today"}, jobOf(d.Overdue))

		require.NoError(t, v.DeleteSchedule(ctx, list.Items[0].ID))
		actions := b.auditActions(t)
		require.Equal(t, "verification_schedule.delete", actions[len(actions)-1])
		require.Len(t, actions, 6+1+1+1+1)
	})
}

// BenchmarkVerificationTickOverdue measures the overdue tick over 5,000
// active schedules of which 50 are overdue: its work follows the overdue
// ones (an indexed range on next_due_on), not all schedules.
func BenchmarkVerificationTickOverdue(b *testing.B) {
	const total, overdue = 5000, 50
	for _, kind := range bunstoretest.Dialects {
		b.Run(string(kind), func(b *testing.B) {
			tb := setup(b, kind, nil)
			ctx := b.Context()
			today := tb.svc.Today()
			require.NoError(b, tb.store.InTx(ctx, func(ctx context.Context, tx store.Repos) error {
				for i := range total {
					j := &store.Job{
						Name: fmt.Sprintf("job-%05d", i), JobType: store.JobTypeFile, Tool: store.ToolRestic,
						Schedule: store.Schedule{Kind: store.ScheduleManual}, Active: true,
						PingToken: fmt.Sprintf("tok-%05d", i), State: store.JobStateNew,
					}
					if err := tx.Jobs().Create(ctx, j); err != nil {
						return err
					}
					due := today.AddDays(1 + i%300)
					if i < overdue {
						due = today.AddDays(-1 - i)
					}
					s := &store.VerificationSchedule{JobID: j.ID, Frequency: store.FrequencyMonthly, TestType: store.TestIntegrity, NextDueOn: due, Active: true}
					if err := tx.VerificationSchedules().Create(ctx, s); err != nil {
						return err
					}
				}
				return nil
			}))
			for b.Loop() {
				n, err := tb.svc.Verification().TickOverdue(ctx)
				require.NoError(b, err)
				require.Equal(b, overdue, n)
			}
		})
	}
}
