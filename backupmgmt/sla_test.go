package backupmgmt

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/custos-dev/custos/store"
	"github.com/custos-dev/custos/store/bunstore/dbopen"
)

// slaRun stores an execution of a job started at start that took d (a
// missed run finishes when it starts; a running one has no finish).
func (b *testBundle) slaRun(t testing.TB, jobID string, status store.ExecutionStatus, start time.Time, d time.Duration) {
	t.Helper()
	e := &store.Execution{
		JobID: jobID, RunID: fmt.Sprintf("sla-%d", start.UnixMicro()), Status: status,
		StartedAt: start, Source: store.SourceAPI,
	}
	if status != store.ExecutionRunning {
		fin := start.Add(d)
		e.FinishedAt = &fin
	}
	created, err := b.store.Executions().Insert(t.Context(), e)
	require.NoError(t, err)
	require.True(t, created)
}

func slaAt(s string) time.Time {
	t, err := time.Parse("2006-01-02 15:04", s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestSLAJob(t *testing.T) {
	t.Parallel()

	t.Run("FiguresOfAConstructedHistory", func(t *testing.T) {
		t.Parallel()
		eachDialect(t, func(t *testing.T, kind dbopen.Kind) {
			b := setup(t, kind, nil)
			ctx := t.Context()
			job := b.jobFixture(t, "erp", func(j *store.Job) { j.RPOTarget = 24 * time.Hour })
			// Now is 2026-11-02 09:00; the 10-day window starts 2026-10-23 09:00.
			b.slaRun(t, job.ID, store.ExecutionSuccess, slaAt("2026-10-22 20:00"), time.Hour) // restore point before the window
			b.slaRun(t, job.ID, store.ExecutionFailed, slaAt("2026-10-22 22:00"), time.Hour)
			b.slaRun(t, job.ID, store.ExecutionSuccess, slaAt("2026-10-24 02:00"), time.Hour)
			b.slaRun(t, job.ID, store.ExecutionFailed, slaAt("2026-10-25 02:00"), 30*time.Minute)
			b.slaRun(t, job.ID, store.ExecutionMissed, slaAt("2026-10-26 02:00"), 0)
			b.slaRun(t, job.ID, store.ExecutionWarning, slaAt("2026-10-27 02:00"), 2*time.Hour)
			b.slaRun(t, job.ID, store.ExecutionSuccess, slaAt("2026-10-28 02:00"), time.Hour)
			b.slaRun(t, job.ID, store.ExecutionCanceled, slaAt("2026-10-29 02:00"), 10*time.Minute)
			b.slaRun(t, job.ID, store.ExecutionSuccess, slaAt("2026-10-30 02:00"), 30*time.Minute)
			b.slaRun(t, job.ID, store.ExecutionSuccess, slaAt("2026-11-01 02:00"), 90*time.Minute)
			b.slaRun(t, job.ID, store.ExecutionRunning, slaAt("2026-11-02 08:00"), 0)

			svc, qc := b.sweepCounted(t, nil)
			got, err := svc.SLA().Job(ctx, job.ID, 10*24*time.Hour)
			require.NoError(t, err)
			require.LessOrEqual(t, qc.Count(), int64(4), "job, one page of runs, success and warning before the window")

			require.Equal(t, 7, got.Runs, "canceled and running runs are left out")
			require.Equal(t, 5, got.Successes)
			require.Equal(t, 2, got.Failures)
			require.Equal(t, 1, got.Missed)
			require.Equal(t, 1, got.Canceled)
			require.NotNil(t, got.SuccessRate)
			require.InDelta(t, 5.0/7.0, *got.SuccessRate, 1e-12)
			// 1h, 30m, 2h, 1h, 30m and 1h30m: 6h30m over 6 runs.
			require.Equal(t, 65*time.Minute, got.MeanDuration)
			require.Equal(t, 2*time.Hour, got.MaxDuration)
			require.Equal(t, slaAt("2026-11-01 03:30"), *got.LastSuccessAt)
			require.Equal(t, 29*time.Hour+30*time.Minute, got.SinceLastSuccess)
			// Restore points 10-22 21:00, 10-24 03:00, 10-27 04:00, 10-28 03:00,
			// 10-30 02:30 and 11-01 03:30, each young for 24 h or until the next:
			// 12 h (from the window's start) + 24 + 23 + 24 + 24 + 24 = 131 h of 240.
			require.NotNil(t, got.WithinRPO)
			require.InDelta(t, 131.0/240.0, *got.WithinRPO, 1e-12)
			require.True(t, got.Breached)
			require.Equal(t, slaAt("2026-10-23 09:00"), got.From)
			require.Equal(t, SLATargetDefault, got.Target)
		})
	})

	t.Run("NoRunsHasNoRateAndNoRPOHasNoShare", func(t *testing.T) {
		t.Parallel()
		eachDialect(t, func(t *testing.T, kind dbopen.Kind) {
			b := setup(t, kind, nil)
			ctx := t.Context()
			idle := b.jobFixture(t, "idle", nil)
			got, err := b.svc.SLA().Job(ctx, idle.ID, 0)
			require.NoError(t, err)
			require.Equal(t, SLAWindowDefault, got.Window)
			require.Zero(t, got.Runs)
			require.Nil(t, got.SuccessRate)
			require.Nil(t, got.WithinRPO)
			require.Nil(t, got.LastSuccessAt)
			require.False(t, got.Breached)

			never := b.jobFixture(t, "never", func(j *store.Job) { j.RPOTarget = time.Hour })
			got, err = b.svc.SLA().Job(ctx, never.ID, 0)
			require.NoError(t, err)
			require.NotNil(t, got.WithinRPO)
			require.Zero(t, *got.WithinRPO, "no restore point at all is never within RPO")
			require.True(t, got.Breached)
		})
	})

	t.Run("RejectsANegativeWindowAndUnknownJobs", func(t *testing.T) {
		t.Parallel()
		b := setup(t, dbopen.SQLite, nil)
		job := b.jobFixture(t, "erp", nil)
		_, err := b.svc.SLA().Job(t.Context(), job.ID, -time.Hour)
		var ve *store.ValidationError
		require.ErrorAs(t, err, &ve)
		require.Contains(t, ve.Fields, "window")
		_, err = b.svc.SLA().Job(t.Context(), store.NewID(), 0)
		require.ErrorIs(t, err, store.ErrNotFound)
	})
}

func TestSLAWithinRPO(t *testing.T) {
	t.Parallel()
	from := slaAt("2026-11-01 00:00")
	to := slaAt("2026-11-02 00:00")
	h := time.Hour
	tests := []struct {
		name   string
		points []time.Time
		rpo    time.Duration
		want   float64
	}{
		{"NoPoints", nil, h, 0},
		{"PointBeforeWindowStillYoung", []time.Time{from.Add(-h)}, 4 * h, 3.0 / 24},
		{"PointBeforeWindowTooOld", []time.Time{from.Add(-5 * h)}, 4 * h, 0},
		{"OverlappingPointsCountOnce", []time.Time{from, from.Add(h)}, 4 * h, 5.0 / 24},
		{"YoungPastTheEnd", []time.Time{to.Add(-2 * h)}, 4 * h, 2.0 / 24},
		{"AlwaysYoung", []time.Time{from.Add(-h), from.Add(6 * h), from.Add(12 * h), from.Add(18 * h)}, 8 * h, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.InDelta(t, tt.want, slaWithinRPO(tt.points, tt.rpo, from, to), 1e-12)
		})
	}
}

func TestSLATick(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, kind dbopen.Kind) {
		b := setup(t, kind, nil)
		ctx := t.Context()
		now := b.svc.Now()
		runs := func(job *store.Job, status store.ExecutionStatus, n int, offset time.Duration) {
			for i := range n {
				b.slaRun(t, job.ID, status, now.Add(-offset-time.Duration(i)*time.Hour), 10*time.Minute)
			}
		}
		bad := b.jobFixture(t, "bad", nil)
		runs(bad, store.ExecutionSuccess, 4, 24*time.Hour)
		runs(bad, store.ExecutionFailed, 2, 48*time.Hour)
		good := b.jobFixture(t, "good", nil)
		runs(good, store.ExecutionSuccess, 6, 24*time.Hour)
		few := b.jobFixture(t, "few", nil)
		runs(few, store.ExecutionFailed, SLAMinRuns-1, 24*time.Hour)
		retired := b.jobFixture(t, "retired", nil)
		runs(retired, store.ExecutionMissed, 6, 24*time.Hour)

		openAlert := func(job *store.Job) *store.Alert {
			a, err := b.store.Alerts().GetUnresolved(ctx, AlertKey(store.AlertSLABreach, jobSubject(job.ID)))
			if err != nil {
				require.ErrorIs(t, err, store.ErrNotFound)
				return nil
			}
			return a
		}

		n, err := b.svc.SLA().Tick(ctx)
		require.NoError(t, err)
		require.Equal(t, 2, n)
		a := openAlert(bad)
		require.NotNil(t, a)
		require.Equal(t, store.SeverityWarning, a.Severity)
		require.Equal(t, "job `bad` is below its SLA", a.Title)
		require.Equal(t, "over 30 days: success rate 66.7 % (4 of 6 runs), target 95.0 %", a.Message)
		require.NotNil(t, openAlert(retired))
		require.Nil(t, openAlert(good))
		require.Nil(t, openAlert(few), "fewer than SLAMinRuns runs are not judged")

		n, err = b.svc.SLA().Tick(ctx)
		require.NoError(t, err)
		require.Equal(t, 2, n)
		require.Equal(t, 1, openAlert(bad).Occurrences, "the same alert, still breached: not another occurrence")

		// 40 more successes: 44 of 46 is 95.7 %, above the target.
		runs(bad, store.ExecutionSuccess, 40, 72*time.Hour)
		retired.Active = false
		require.NoError(t, b.store.Jobs().Update(ctx, retired))
		n, err = b.svc.SLA().Tick(ctx)
		require.NoError(t, err)
		require.Zero(t, n)
		require.Nil(t, openAlert(bad))
		require.Nil(t, openAlert(retired), "a job no longer active has no SLA to breach")
		resolved, err := b.store.Alerts().Get(ctx, a.ID)
		require.NoError(t, err)
		require.Equal(t, store.AlertResolved, resolved.State)
		require.Equal(t, store.ResolvedByAuto, resolved.ResolvedBy)
	})
}
