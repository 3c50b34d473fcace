package backupmgmt

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/custos-dev/custos/store"
	"github.com/custos-dev/custos/store/bunstore/dbopen"
)

// slaListsStore hides the store.SLAExecutionReader of its Store, as a store
// without it would be.
type slaListsStore struct{ store.Store }

func (s slaListsStore) Executions() store.ExecutionStore {
	return struct{ store.ExecutionStore }{s.Store.Executions()}
}

// TestSLAQueryBudget holds SLA().Job to two statements with a
// store.SLAExecutionReader (issue 4: a GET is two queries plus at most one
// for authentication), and checks that the List path of a store without
// one gives the same figures from its four.
func TestSLAQueryBudget(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, kind dbopen.Kind) {
		b := setup(t, kind, nil)
		ctx := t.Context()
		job := b.jobFixture(t, "erp", func(j *store.Job) { j.RPOTarget = 24 * time.Hour })
		other := b.jobFixture(t, "other", nil)
		// Now is 2026-11-02 09:00; the 10-day window starts 2026-10-23 09:00.
		// Before it, the newest success starts before the newest warning but
		// finishes after it: both are restore points.
		b.slaRun(t, job.ID, store.ExecutionSuccess, slaAt("2026-10-20 01:00"), time.Hour)
		b.slaRun(t, job.ID, store.ExecutionSuccess, slaAt("2026-10-22 01:00"), 19*time.Hour)
		b.slaRun(t, job.ID, store.ExecutionWarning, slaAt("2026-10-22 02:00"), time.Hour)
		b.slaRun(t, job.ID, store.ExecutionFailed, slaAt("2026-10-23 08:59"), time.Minute)
		b.slaRun(t, job.ID, store.ExecutionMissed, slaAt("2026-10-23 09:00"), 0)
		b.slaRun(t, job.ID, store.ExecutionSuccess, slaAt("2026-10-25 02:00"), time.Hour)
		b.slaRun(t, job.ID, store.ExecutionCanceled, slaAt("2026-10-26 02:00"), time.Minute)
		b.slaRun(t, job.ID, store.ExecutionFailed, slaAt("2026-10-27 02:00"), 30*time.Minute)
		b.slaRun(t, job.ID, store.ExecutionRunning, slaAt("2026-11-02 08:00"), 0)
		b.slaRun(t, other.ID, store.ExecutionSuccess, slaAt("2026-10-22 01:30"), 30*time.Hour)
		b.slaRun(t, other.ID, store.ExecutionSuccess, slaAt("2026-11-01 02:00"), time.Hour)

		svc, qc := b.sweepCounted(t, nil)
		_, ok := svc.store.Executions().(store.SLAExecutionReader)
		require.True(t, ok, "bunstore has an SLAExecutionReader")
		qc.Reset()
		got, err := svc.SLA().Job(ctx, job.ID, 10*24*time.Hour)
		require.NoError(t, err)
		require.EqualValues(t, 2, qc.Count(), "the job and its runs")
		require.EqualValues(t, 2, qc.CountOf("SELECT"))

		require.Equal(t, 3, got.Runs)
		require.Equal(t, 1, got.Successes)
		require.Equal(t, 2, got.Failures)
		require.Equal(t, 1, got.Missed)
		require.Equal(t, 1, got.Canceled)
		require.Equal(t, 45*time.Minute, got.MeanDuration)
		require.Equal(t, time.Hour, got.MaxDuration)
		require.Equal(t, slaAt("2026-10-25 03:00"), *got.LastSuccessAt)
		// Restore points 10-22 03:00 (old at the window's start), 10-22 20:00
		// (young until 10-23 20:00: 11 h) and 10-25 03:00 (24 h): 35 h of 240.
		require.NotNil(t, got.WithinRPO)
		require.InDelta(t, 35.0/240.0, *got.WithinRPO, 1e-12)

		lists, err := New(slaListsStore{b.store.WithQueryHook(qc)}, &Config{Now: b.clock.Now})
		require.NoError(t, err)
		qc.Reset()
		want, err := lists.SLA().Job(ctx, job.ID, 10*24*time.Hour)
		require.NoError(t, err)
		require.EqualValues(t, 4, qc.Count(), "the job, a page of runs, the success and the warning before")
		require.Equal(t, want, got)

		for _, id := range []string{other.ID, b.jobFixture(t, "idle", nil).ID} {
			qc.Reset()
			got, err := svc.SLA().Job(ctx, id, 0)
			require.NoError(t, err)
			require.EqualValues(t, 2, qc.Count())
			want, err := lists.SLA().Job(ctx, id, 0)
			require.NoError(t, err)
			require.Equal(t, want, got)
		}
	})
}
