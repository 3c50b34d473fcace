package backupmgmt

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/custos-dev/custos/store"
	"github.com/custos-dev/custos/store/bunstore/dbopen"
)

// rollupRun stores a finished (or running) execution of a job.
func (b *testBundle) rollupRun(t testing.TB, jobID string, status store.ExecutionStatus, started time.Time, size int64) {
	t.Helper()
	e := &store.Execution{
		JobID: jobID, RunID: fmt.Sprintf("run-%s-%d", status, started.UnixMicro()), Status: status,
		StartedAt: started, SizeBytes: size, Source: store.SourceAPI,
	}
	if status != store.ExecutionRunning {
		fin := started.Add(10 * time.Minute)
		e.FinishedAt = &fin
	}
	created, err := b.store.Executions().Insert(t.Context(), e)
	require.NoError(t, err)
	require.True(t, created)
}

// rollupState stores a compliance state directly.
func (b *testBundle) rollupState(t testing.TB, subject store.SubjectType, id string, status store.ComplianceStatus) {
	t.Helper()
	now := b.svc.Now()
	require.NoError(t, b.store.Compliance().PutState(t.Context(), &store.ComplianceState{
		SubjectType: subject, SubjectID: id, Status: status, EvaluatedAt: now, ChangedAt: now,
	}))
}

func rollupDay(s string) store.Date {
	d, err := store.ParseDate(s)
	if err != nil {
		panic(err)
	}
	return d
}

func TestRollups(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, kind dbopen.Kind) {
		b := setup(t, kind, nil)
		ctx := t.Context()
		r := b.svc.Rollups()
		a := b.jobFixture(t, "a", nil)
		c := b.jobFixture(t, "c", nil)
		today := time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC) // the clock's day
		b.rollupRun(t, a.ID, store.ExecutionSuccess, today.Add(-time.Microsecond), 100)
		b.rollupRun(t, a.ID, store.ExecutionSuccess, today, 1000)
		b.rollupRun(t, c.ID, store.ExecutionWarning, today.Add(time.Hour), 10)
		b.rollupRun(t, a.ID, store.ExecutionFailed, today.Add(2*time.Hour), 0)
		b.rollupRun(t, c.ID, store.ExecutionMissed, today.Add(3*time.Hour), 0)
		b.rollupRun(t, c.ID, store.ExecutionCanceled, today.Add(4*time.Hour), 5)
		b.rollupRun(t, a.ID, store.ExecutionRunning, today.Add(5*time.Hour), 0)
		b.rollupRun(t, a.ID, store.ExecutionSuccess, today.Add(24*time.Hour), 7)
		b.rollupState(t, store.SubjectJob, a.ID, store.ComplianceCompliant)
		b.rollupState(t, store.SubjectJob, c.ID, store.ComplianceCompliant)
		b.rollupState(t, store.SubjectJob, "gone-1", store.ComplianceWarning)
		b.rollupState(t, store.SubjectJob, "gone-2", store.ComplianceNonCompliant)
		b.rollupState(t, store.SubjectJob, "gone-3", store.ComplianceUnknown)
		b.rollupState(t, store.SubjectAsset, "asset-1", store.ComplianceNonCompliant)

		// Today counts its runs and the live states.
		{
			got, err := r.Fold(ctx, rollupDay("2026-11-02"))
			require.NoError(t, err)
			want := store.DailyRollup{
				Day: rollupDay("2026-11-02"), ExecutionsSuccess: 1, ExecutionsWarning: 1, ExecutionsFailed: 1,
				ExecutionsCanceled: 1, ExecutionsMissed: 1, BytesWritten: 1015,
				JobsCompliant: 2, JobsWarning: 1, JobsNonCompliant: 1, JobsUnknown: 1,
				UpdatedAt: b.svc.Now(),
			}
			require.Equal(t, want, *got)
			stored, err := b.store.Rollups().Get(ctx, want.Day)
			require.NoError(t, err)
			require.Equal(t, want, *stored)
		}

		// A past day keeps the compliance counts it was folded with.
		{
			day := rollupDay("2026-11-01")
			got, err := r.Fold(ctx, day)
			require.NoError(t, err)
			require.Equal(t, int64(1), got.ExecutionsSuccess)
			require.Equal(t, int64(100), got.BytesWritten)
			require.Zero(t, got.JobsCompliant+got.JobsWarning+got.JobsNonCompliant+got.JobsUnknown,
				"never folded while it was today: no snapshot to keep")

			require.NoError(t, b.store.Rollups().Put(ctx, &store.DailyRollup{Day: day, ExecutionsFailed: 9, JobsCompliant: 5, JobsWarning: 4}))
			got, err = r.Fold(ctx, day)
			require.NoError(t, err)
			require.Equal(t, int64(1), got.ExecutionsSuccess)
			require.Zero(t, got.ExecutionsFailed, "executions are recomputed")
			require.Equal(t, 5, got.JobsCompliant)
			require.Equal(t, 4, got.JobsWarning)
		}

		// Rejects a day after today.
		{
			_, err := r.Fold(ctx, rollupDay("2026-11-03"))
			requireRollupField(t, err, "day")
			_, err = r.Fold(ctx, store.Date{})
			requireRollupField(t, err, "day")
		}

		// Tick folds yesterday and today.
		{
			b.clock.Advance(24 * time.Hour)
			b.rollupState(t, store.SubjectJob, "new-1", store.ComplianceCompliant)
			require.NoError(t, r.Tick(ctx))
			yesterday, err := b.store.Rollups().Get(ctx, rollupDay("2026-11-02"))
			require.NoError(t, err)
			require.Equal(t, 2, yesterday.JobsCompliant, "yesterday keeps its snapshot")
			require.Equal(t, int64(1), yesterday.ExecutionsSuccess)
			today, err := b.store.Rollups().Get(ctx, rollupDay("2026-11-03"))
			require.NoError(t, err)
			require.Equal(t, 3, today.JobsCompliant)
			require.Equal(t, int64(1), today.ExecutionsSuccess)
			require.Equal(t, int64(7), today.BytesWritten)
		}

		// Trend has every day in one query.
		{
			svc, qc := b.sweepCounted(t, nil)
			trend, err := svc.Rollups().Trend(ctx, rollupDay("2026-10-31"), rollupDay("2026-11-04"))
			require.NoError(t, err)
			require.Equal(t, int64(1), qc.Count())
			days := make([]string, len(trend))
			for i, d := range trend {
				days[i] = d.Day.String()
			}
			require.Equal(t, []string{"2026-10-31", "2026-11-01", "2026-11-02", "2026-11-03", "2026-11-04"}, days)
			require.Equal(t, store.DailyRollup{Day: rollupDay("2026-10-31")}, trend[0])
			require.Equal(t, 5, trend[1].JobsCompliant)
			require.Equal(t, int64(1015), trend[2].BytesWritten)
			require.Equal(t, store.DailyRollup{Day: rollupDay("2026-11-04")}, trend[4])
			rate, ok := RollupSuccessRate(trend[2])
			require.True(t, ok)
			require.InDelta(t, 0.5, rate, 1e-9, "success and warning of success, warning, failed and missed")
			rate, ok = RollupComplianceRate(trend[2])
			require.True(t, ok)
			require.InDelta(t, 0.5, rate, 1e-9)
			_, ok = RollupSuccessRate(trend[0])
			require.False(t, ok)
		}

		// Trend rejects bad ranges.
		{
			_, err := r.Trend(ctx, rollupDay("2026-11-02"), rollupDay("2026-11-01"))
			requireRollupField(t, err, "to")
			_, err = r.Trend(ctx, rollupDay("2024-01-01"), rollupDay("2026-11-01"))
			requireRollupField(t, err, "to")
			_, err = r.Trend(ctx, store.Date{}, rollupDay("2026-11-01"))
			requireRollupField(t, err, "from")
		}
	})
}

func requireRollupField(t *testing.T, err error, field string) {
	t.Helper()
	var ve *store.ValidationError
	require.ErrorAs(t, err, &ve)
	require.Contains(t, ve.Fields, field)
}

func TestRollupFill(t *testing.T) {
	t.Parallel()
	d := rollupDay
	tests := []struct {
		name     string
		stored   []string
		from, to string
		want     []string // days that come from stored rows, "" for filled ones
	}{
		{"NothingStored", nil, "2026-11-01", "2026-11-03", []string{"", "", ""}},
		{"Gaps", []string{"2026-11-01", "2026-11-03"}, "2026-11-01", "2026-11-04", []string{"2026-11-01", "", "2026-11-03", ""}},
		{"OneDay", []string{"2026-11-02"}, "2026-11-02", "2026-11-02", []string{"2026-11-02"}},
		{"AcrossAMonth", []string{"2026-11-30", "2026-12-01"}, "2026-11-29", "2026-12-01", []string{"", "2026-11-30", "2026-12-01"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var stored []store.DailyRollup
			for _, s := range tt.stored {
				stored = append(stored, store.DailyRollup{Day: d(s), ExecutionsSuccess: 1})
			}
			got := rollupFill(stored, d(tt.from), d(tt.to))
			require.Len(t, got, len(tt.want))
			for i, w := range tt.want {
				require.Equal(t, d(tt.from).AddDays(i), got[i].Day)
				require.Equal(t, w != "", got[i].ExecutionsSuccess == 1, "day %s", got[i].Day)
			}
		})
	}
}
