package storetest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/custos-dev/custos/store"
)

var _ = register("Dashboard", testDashboard)

// testDashboard checks the optional store.DashboardCounter capability:
// every count against fixtures, and each part against the per-aggregate
// count method it replaces. Stores without the capability skip it.
func testDashboard(t *testing.T, newStore NewStoreFunc) {
	t.Run("CountsEveryPart", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		dc, ok := b.s.(store.DashboardCounter)
		if !ok {
			t.Skip("store has no DashboardCounts")
		}
		ctx := b.ctx
		since := time.Date(2026, 11, 4, 0, 0, 0, 0, time.UTC)
		p := store.DashboardCountsParams{
			Since:     since,
			Today:     store.Date{Year: 2026, Month: 11, Day: 10},
			DueSoonBy: store.Date{Year: 2026, Month: 11, Day: 17},
		}

		jobState := func(st store.JobState, paused, active bool) *store.Job {
			return b.job(t, func(j *store.Job) { j.State, j.Paused, j.Active = st, paused, active })
		}
		up := jobState(store.JobStateUp, false, true)
		jobState(store.JobStateUp, false, true)
		failed := jobState(store.JobStateFailed, false, true)
		jobState(store.JobStateUp, true, true)
		jobState(store.JobStateFailed, true, true)
		inactive := jobState(store.JobStateNew, false, false)

		for i, st := range []store.ComplianceStatus{
			store.ComplianceCompliant, store.ComplianceCompliant, store.ComplianceWarning, store.ComplianceNonCompliant,
		} {
			require.NoError(t, b.s.Compliance().PutState(ctx, &store.ComplianceState{
				SubjectType: store.SubjectJob, SubjectID: "job-" + itoa(int64(i)), Status: st,
				EvaluatedAt: since, ChangedAt: since,
			}))
		}
		for i, st := range []store.ComplianceStatus{store.ComplianceNonCompliant, store.ComplianceUnknown} {
			require.NoError(t, b.s.Compliance().PutState(ctx, &store.ComplianceState{
				SubjectType: store.SubjectAsset, SubjectID: "asset-" + itoa(int64(i)), Status: st,
				EvaluatedAt: since, ChangedAt: since,
			}))
		}

		run := func(jobID string, st store.ExecutionStatus, at time.Time) {
			b.execution(t, jobID, func(e *store.Execution) {
				e.Status, e.StartedAt = st, at
				if st == store.ExecutionRunning {
					e.FinishedAt = nil
				} else {
					fin := at.Add(time.Minute)
					e.FinishedAt = &fin
				}
			})
		}
		run(up.ID, store.ExecutionSuccess, since.Add(-time.Microsecond))
		run(up.ID, store.ExecutionSuccess, since)
		run(failed.ID, store.ExecutionFailed, since.Add(time.Hour))
		run(failed.ID, store.ExecutionFailed, since.Add(2*time.Hour))
		run(failed.ID, store.ExecutionMissed, since.Add(3*time.Hour))
		run(up.ID, store.ExecutionRunning, since.Add(4*time.Hour))

		alert := func(st store.AlertState, sev store.Severity) {
			b.alert(t, func(a *store.Alert) {
				a.State, a.Severity = st, sev
				if st == store.AlertResolved {
					at := since
					a.ResolvedAt = &at
				}
			})
		}
		alert(store.AlertOpen, store.SeverityError)
		alert(store.AlertOpen, store.SeverityError)
		alert(store.AlertOpen, store.SeverityCritical)
		alert(store.AlertAcknowledged, store.SeverityWarning)
		alert(store.AlertResolved, store.SeverityError)

		due := func(day int, active bool) {
			j := b.job(t)
			b.verificationSchedule(t, j.ID, func(s *store.VerificationSchedule) {
				s.NextDueOn, s.Active = store.Date{Year: 2026, Month: 11, Day: day}, active
			})
		}
		due(1, true)  // overdue
		due(9, true)  // overdue
		due(10, true) // due soon: today
		due(17, true) // due soon: the last day
		due(18, true) // neither
		due(1, false) // inactive
		b.verificationSchedule(t, inactive.ID, func(s *store.VerificationSchedule) {
			s.NextDueOn, s.Active = store.Date{Year: 2026, Month: 11, Day: 2}, false
		})

		for _, st := range []store.MediaStatus{store.MediaAvailable, store.MediaAvailable, store.MediaLent, store.MediaRetired} {
			b.media(t, func(m *store.Media) { m.Status = st })
		}

		got, err := dc.DashboardCounts(ctx, p)
		require.NoError(t, err)
		// The schedule fixtures added 6 active jobs in state new.
		require.Equal(t, map[store.JobState]int{
			store.JobStateUp: 2, store.JobStateFailed: 1, store.JobStatePaused: 2, store.JobStateNew: 7,
		}, got.Jobs)
		require.Equal(t, map[store.ComplianceStatus]int{
			store.ComplianceCompliant: 2, store.ComplianceWarning: 1, store.ComplianceNonCompliant: 1,
		}, got.JobCompliance)
		require.Equal(t, map[store.ComplianceStatus]int{
			store.ComplianceNonCompliant: 1, store.ComplianceUnknown: 1,
		}, got.AssetCompliance)
		require.Equal(t, map[store.ExecutionStatus]int64{
			store.ExecutionSuccess: 1, store.ExecutionFailed: 2, store.ExecutionMissed: 1, store.ExecutionRunning: 1,
		}, got.Executions)
		require.Equal(t, map[store.AlertState]map[store.Severity]int{
			store.AlertOpen:         {store.SeverityError: 2, store.SeverityCritical: 1},
			store.AlertAcknowledged: {store.SeverityWarning: 1},
		}, got.Alerts)
		require.Equal(t, 2, got.VerificationOverdue)
		require.Equal(t, 2, got.VerificationDueSoon)
		require.Equal(t, map[store.MediaStatus]int{
			store.MediaAvailable: 2, store.MediaLent: 1, store.MediaRetired: 1,
		}, got.Media)

		// Each part agrees with the count method it stands for.
		jobs, err := b.s.Jobs().CountByState(ctx)
		require.NoError(t, err)
		require.Equal(t, jobs, got.Jobs)
		execs, err := b.s.Executions().CountByStatus(ctx, "", store.TimeRange{From: since})
		require.NoError(t, err)
		require.Equal(t, execs, got.Executions)
		alerts, err := b.s.Alerts().CountUnresolved(ctx)
		require.NoError(t, err)
		require.Equal(t, alerts, got.Alerts)
		media, err := b.s.Media().CountByStatus(ctx)
		require.NoError(t, err)
		require.Equal(t, media, got.Media)
	})

	t.Run("EmptyStoreCountsNothing", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		dc, ok := b.s.(store.DashboardCounter)
		if !ok {
			t.Skip("store has no DashboardCounts")
		}
		got, err := dc.DashboardCounts(b.ctx, store.DashboardCountsParams{Today: store.Date{Year: 2026, Month: 11, Day: 10}})
		require.NoError(t, err)
		require.Empty(t, got.Jobs)
		require.Empty(t, got.JobCompliance)
		require.Empty(t, got.AssetCompliance)
		require.Empty(t, got.Executions)
		require.Empty(t, got.Alerts)
		require.Empty(t, got.Media)
		require.Zero(t, got.VerificationOverdue)
		require.Zero(t, got.VerificationDueSoon)
	})

	t.Run("RejectsAMissingToday", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		dc, ok := b.s.(store.DashboardCounter)
		if !ok {
			t.Skip("store has no DashboardCounts")
		}
		_, err := dc.DashboardCounts(b.ctx, store.DashboardCountsParams{Since: time.Now()})
		requireValidation(t, err, "today")
	})
}
