package backupmgmt

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/custos-dev/custos/store"
	"github.com/custos-dev/custos/store/bunstore/dbopen"
)

// dashboardPlainStore hides the store's optional capabilities, as a
// decorator that does not forward them would.
type dashboardPlainStore struct{ store.Store }

func TestDashboardSummary(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, kind dbopen.Kind) {
		b := setup(t, kind, nil)
		ctx := t.Context()
		now := b.svc.Now() // 2026-11-02 09:00 UTC

		state := func(name string, st store.JobState, paused bool) *store.Job {
			return b.jobFixture(t, name, func(j *store.Job) { j.State, j.Paused = st, paused })
		}
		up := state("up-1", store.JobStateUp, false)
		state("up-2", store.JobStateUp, false)
		failed := state("failed", store.JobStateFailed, false)
		state("paused-up", store.JobStateUp, true)
		state("missed", store.JobStateMissed, false)

		b.rollupState(t, store.SubjectJob, up.ID, store.ComplianceCompliant)
		b.rollupState(t, store.SubjectJob, failed.ID, store.ComplianceNonCompliant)
		b.rollupState(t, store.SubjectJob, "j3", store.ComplianceCompliant)
		b.rollupState(t, store.SubjectJob, "j4", store.ComplianceWarning)
		b.rollupState(t, store.SubjectAsset, "a1", store.ComplianceCompliant)

		b.rollupRun(t, up.ID, store.ExecutionSuccess, now.Add(-DashboardRecentWindow-time.Microsecond), 1)
		b.rollupRun(t, up.ID, store.ExecutionSuccess, now.Add(-DashboardRecentWindow), 1)
		b.rollupRun(t, up.ID, store.ExecutionSuccess, now.Add(-time.Hour), 1)
		b.rollupRun(t, failed.ID, store.ExecutionFailed, now.Add(-2*time.Hour), 0)
		b.rollupRun(t, failed.ID, store.ExecutionRunning, now.Add(-time.Minute), 0)

		alert := func(st store.AlertState, sev store.Severity) {
			a := &store.Alert{
				Type: store.AlertBackupFailed, Severity: sev, DedupeKey: "k:" + store.NewID(), Title: "t",
				State: st, Occurrences: 1, FirstSeenAt: now, LastSeenAt: now,
			}
			if st == store.AlertResolved {
				a.ResolvedAt = &now
			}
			require.NoError(t, b.store.Alerts().Create(ctx, a))
		}
		alert(store.AlertOpen, store.SeverityCritical)
		alert(store.AlertOpen, store.SeverityWarning)
		alert(store.AlertAcknowledged, store.SeverityWarning)
		alert(store.AlertResolved, store.SeverityError)

		today := b.svc.Today()
		for i, due := range []int{-30, -1, 0, 7, 8} {
			j := b.jobFixture(t, fmt.Sprintf("verified-%d", i), nil)
			require.NoError(t, b.store.VerificationSchedules().Create(ctx, &store.VerificationSchedule{
				JobID: j.ID, Frequency: store.FrequencyMonthly, TestType: store.TestIntegrity,
				NextDueOn: today.AddDays(due), Active: true,
			}))
		}

		for i, st := range []store.MediaStatus{store.MediaAvailable, store.MediaLent, store.MediaLent} {
			require.NoError(t, b.store.Media().Create(ctx, &store.Media{
				Label: fmt.Sprintf("TAPE-%d", i), MediaType: store.OfflineTape, Status: st,
			}))
		}

		day := func(n int) store.Date { return store.DateOf(now, nil).AddDays(n) }
		require.NoError(t, b.store.Rollups().Put(ctx, &store.DailyRollup{
			Day: day(-6), ExecutionsSuccess: 8, ExecutionsWarning: 1, ExecutionsFailed: 1, ExecutionsCanceled: 3,
			JobsCompliant: 3, JobsNonCompliant: 1, BytesWritten: 500,
		}))
		require.NoError(t, b.store.Rollups().Put(ctx, &store.DailyRollup{Day: day(-1), ExecutionsMissed: 2}))
		require.NoError(t, b.store.Rollups().Put(ctx, &store.DailyRollup{Day: day(-7), ExecutionsSuccess: 99}))

		svc, qc := b.sweepCounted(t, nil)
		got, err := svc.Dashboard().Summary(ctx)
		require.NoError(t, err)
		require.LessOrEqual(t, qc.Count(), int64(2))

		require.Equal(t, now, got.At)
		// The 5 schedule fixtures are jobs in state new.
		require.Equal(t, map[store.JobState]int{
			store.JobStateNew: 5, store.JobStateUp: 2, store.JobStateRunning: 0, store.JobStateLate: 0,
			store.JobStateMissed: 1, store.JobStateFailed: 1, store.JobStatePaused: 1,
		}, got.Jobs)
		require.Equal(t, 10, got.JobsTotal)
		require.Equal(t, map[store.ComplianceStatus]int{
			store.ComplianceCompliant: 2, store.ComplianceWarning: 1, store.ComplianceNonCompliant: 1, store.ComplianceUnknown: 0,
		}, got.Compliance.Jobs)
		require.Equal(t, 1, got.Compliance.Assets[store.ComplianceCompliant])
		require.InDelta(t, 0.5, got.Compliance.Rate, 1e-12)
		require.Equal(t, map[store.ExecutionStatus]int64{
			store.ExecutionRunning: 1, store.ExecutionSuccess: 2, store.ExecutionWarning: 0,
			store.ExecutionFailed: 1, store.ExecutionCanceled: 0, store.ExecutionMissed: 0,
		}, got.Executions)
		require.Equal(t, map[store.Severity]int{
			store.SeverityInfo: 0, store.SeverityWarning: 2, store.SeverityError: 0, store.SeverityCritical: 1,
		}, got.Alerts)
		require.Equal(t, 1, got.AlertsUnacknowledged[store.SeverityWarning])
		require.Equal(t, 1, got.AlertsUnacknowledged[store.SeverityCritical])
		require.Equal(t, 2, got.VerificationOverdue)
		require.Equal(t, 2, got.VerificationDueSoon, "today and in 7 days; in 8 days is not soon")
		require.Equal(t, map[store.MediaStatus]int{
			store.MediaAvailable: 1, store.MediaInUse: 0, store.MediaStoredOffsite: 0, store.MediaLent: 2, store.MediaRetired: 0,
		}, got.Media)

		require.Len(t, got.Trend, DashboardTrendDays)
		require.Equal(t, day(-6), got.Trend[0].Day)
		require.Equal(t, day(0), got.Trend[6].Day)
		require.Equal(t, int64(10), got.Trend[0].Runs)
		require.Equal(t, int64(9), got.Trend[0].Successes)
		require.InDelta(t, 0.9, *got.Trend[0].SuccessRate, 1e-12)
		require.InDelta(t, 0.75, *got.Trend[0].ComplianceRate, 1e-12)
		require.Equal(t, int64(500), got.Trend[0].BytesWritten)
		require.Nil(t, got.Trend[1].SuccessRate)
		require.Zero(t, *got.Trend[5].SuccessRate, "two missed runs")
		require.Nil(t, got.Trend[5].ComplianceRate)

		// Without the capability the same figures come from the count methods.
		plain, err := New(dashboardPlainStore{b.store}, &Config{Now: b.clock.Now})
		require.NoError(t, err)
		_, ok := plain.store.(store.DashboardCounter)
		require.False(t, ok)
		fallback, err := plain.Dashboard().Summary(ctx)
		require.NoError(t, err)
		require.Equal(t, got, fallback)
	})
}
