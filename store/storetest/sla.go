package storetest

import (
	"cmp"
	"context"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/custos-dev/custos/store"
)

var _ = register("SLAExecutions", testSLAExecutions)

// testSLAExecutions checks the optional store.SLAExecutionReader against
// the List calls it stands for. Stores without it skip these tests.
func testSLAExecutions(t *testing.T, newStore NewStoreFunc) {
	reader := func(t *testing.T, repos store.Repos) store.SLAExecutionReader {
		t.Helper()
		r, ok := repos.Executions().(store.SLAExecutionReader)
		if !ok {
			t.Skip("store has no SLAExecutionReader")
		}
		return r
	}
	// slaFields is e with only the fields SLAExecutions sets.
	slaFields := func(es []store.Execution) []store.Execution {
		var out []store.Execution
		for _, e := range es {
			out = append(out, store.Execution{ID: e.ID, JobID: e.JobID, Status: e.Status, StartedAt: e.StartedAt, FinishedAt: e.FinishedAt})
		}
		return out
	}
	// requireAsLists checks window and before against List: every page of
	// the window, then the newest success and the newest warning before it.
	requireAsLists := func(t *testing.T, ctx context.Context, repos store.Repos, jobID string, from time.Time, window, before []store.Execution) {
		t.Helper()
		var want []store.Execution
		p := store.ListExecutionsParams{JobID: jobID, Started: store.TimeRange{From: from}}
		p.Limit = 2 // several pages
		for {
			page, err := repos.Executions().List(ctx, p)
			require.NoError(t, err)
			want = append(want, page.Items...)
			if page.NextCursor == "" {
				break
			}
			p.Cursor = page.NextCursor
		}
		require.Equal(t, slaFields(want), window)
		var wantBefore []store.Execution
		for _, st := range []store.ExecutionStatus{store.ExecutionSuccess, store.ExecutionWarning} {
			p := store.ListExecutionsParams{JobID: jobID, Status: st, Started: store.TimeRange{To: from}}
			p.Limit = 1
			page, err := repos.Executions().List(ctx, p)
			require.NoError(t, err)
			wantBefore = append(wantBefore, page.Items...)
		}
		wantBefore = slaFields(wantBefore)
		slices.SortFunc(wantBefore, func(a, b store.Execution) int {
			return cmp.Or(b.StartedAt.Compare(a.StartedAt), cmp.Compare(b.ID, a.ID))
		})
		require.Equal(t, wantBefore, before)
	}
	from := time.Date(2026, 10, 23, 9, 0, 0, 0, time.UTC)
	// run stores an execution of job started at start, finished d later
	// unless it is running.
	run := func(t *testing.T, b *bundle, jobID string, status store.ExecutionStatus, start time.Time, d time.Duration) *store.Execution {
		t.Helper()
		return b.execution(t, jobID, func(e *store.Execution) {
			e.Status = status
			e.StartedAt = start
			e.FinishedAt = ptr(start.Add(d))
			if status == store.ExecutionRunning {
				e.FinishedAt = nil
			}
		})
	}

	t.Run("ReadsTheWindowAndTheNewestSuccessAndWarningBefore", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		r := reader(t, b.s)
		job, other := b.job(t), b.job(t)
		run(t, b, job.ID, store.ExecutionSuccess, from.Add(-72*time.Hour), time.Hour)
		newestSuccess := run(t, b, job.ID, store.ExecutionSuccess, from.Add(-48*time.Hour), 60*time.Hour) // finishes in the window
		run(t, b, job.ID, store.ExecutionWarning, from.Add(-50*time.Hour), time.Hour)
		newestWarning := run(t, b, job.ID, store.ExecutionWarning, from.Add(-24*time.Hour), time.Hour)
		run(t, b, job.ID, store.ExecutionFailed, from.Add(-time.Microsecond), time.Minute) // newest before, not a restore point
		atFrom := run(t, b, job.ID, store.ExecutionFailed, from, time.Minute)
		run(t, b, job.ID, store.ExecutionMissed, from.Add(24*time.Hour), 0)
		run(t, b, job.ID, store.ExecutionCanceled, from.Add(48*time.Hour), time.Minute)
		run(t, b, job.ID, store.ExecutionWarning, from.Add(72*time.Hour), time.Hour)
		run(t, b, job.ID, store.ExecutionSuccess, from.Add(96*time.Hour), time.Hour)
		run(t, b, job.ID, store.ExecutionSuccess, from.Add(96*time.Hour), 2*time.Hour) // same start: ID breaks the tie
		running := run(t, b, job.ID, store.ExecutionRunning, from.Add(120*time.Hour), 0)
		run(t, b, other.ID, store.ExecutionSuccess, from.Add(time.Hour), time.Hour)
		run(t, b, other.ID, store.ExecutionSuccess, from.Add(-time.Hour), time.Minute)
		run(t, b, other.ID, store.ExecutionWarning, from.Add(-time.Hour), time.Minute)

		window, before, err := r.SLAExecutions(b.ctx, job.ID, from.In(tokyo))
		require.NoError(t, err)
		require.Len(t, window, 7, "from is inclusive; other jobs are left out")
		require.Equal(t, running.ID, window[0].ID, "newest start first; a running run is included")
		require.Nil(t, window[0].FinishedAt)
		require.Equal(t, atFrom.ID, window[6].ID)
		require.Equal(t, store.ExecutionMissed, window[5].Status)
		require.Equal(t, store.ExecutionCanceled, window[4].Status)
		require.Len(t, before, 2)
		require.Equal(t, newestWarning.ID, before[0].ID, "the newest warning started later")
		require.Equal(t, newestSuccess.ID, before[1].ID)
		require.Equal(t, newestSuccess.FinishedAt, before[1].FinishedAt)
		require.Equal(t, job.ID, before[1].JobID)
		require.Empty(t, before[1].LogExcerpt)
		requireAsLists(t, b.ctx, b.s, job.ID, from, window, before)
	})

	t.Run("ReadsASuccessBeforeWithoutAWarning", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		r := reader(t, b.s)
		job := b.job(t)
		run(t, b, job.ID, store.ExecutionSuccess, from.Add(-2*time.Hour), time.Hour)
		success := run(t, b, job.ID, store.ExecutionSuccess, from.Add(-time.Hour), time.Hour)
		run(t, b, job.ID, store.ExecutionFailed, from.Add(-time.Minute), time.Second)
		window, before, err := r.SLAExecutions(b.ctx, job.ID, from)
		require.NoError(t, err)
		require.Empty(t, window)
		require.Len(t, before, 1)
		require.Equal(t, success.ID, before[0].ID)
		requireAsLists(t, b.ctx, b.s, job.ID, from, window, before)

		// A warning alone.
		warned := b.job(t)
		warning := run(t, b, warned.ID, store.ExecutionWarning, from.Add(-time.Hour), time.Hour)
		window, before, err = r.SLAExecutions(b.ctx, warned.ID, from)
		require.NoError(t, err)
		require.Empty(t, window)
		require.Len(t, before, 1)
		require.Equal(t, warning.ID, before[0].ID)
		requireAsLists(t, b.ctx, b.s, warned.ID, from, window, before)
	})

	t.Run("ReadsNoneBeforeAWindowWithoutRestorePoints", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		r := reader(t, b.s)
		job := b.job(t)
		run(t, b, job.ID, store.ExecutionFailed, from.Add(-time.Hour), time.Minute)
		run(t, b, job.ID, store.ExecutionCanceled, from.Add(-2*time.Hour), time.Minute)
		run(t, b, job.ID, store.ExecutionMissed, from.Add(-3*time.Hour), 0)
		in := run(t, b, job.ID, store.ExecutionSuccess, from.Add(time.Hour), time.Hour)
		window, before, err := r.SLAExecutions(b.ctx, job.ID, from)
		require.NoError(t, err)
		require.Len(t, window, 1)
		require.Equal(t, in.ID, window[0].ID)
		require.Empty(t, before)
		requireAsLists(t, b.ctx, b.s, job.ID, from, window, before)
	})

	t.Run("ReadsNothingForAJobWithoutRuns", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		r := reader(t, b.s)
		other := b.job(t)
		run(t, b, other.ID, store.ExecutionSuccess, from.Add(-time.Hour), time.Hour)
		run(t, b, other.ID, store.ExecutionSuccess, from.Add(time.Hour), time.Hour)
		for _, id := range []string{b.job(t).ID, "no-such-job"} {
			window, before, err := r.SLAExecutions(b.ctx, id, from)
			require.NoError(t, err)
			require.Empty(t, window)
			require.Empty(t, before)
		}
	})

	t.Run("WorksInATransaction", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		reader(t, b.s)
		job := b.job(t)
		err := b.s.InTx(b.ctx, func(ctx context.Context, tx store.Repos) error {
			e := newExecution(job.ID)
			e.StartedAt = from.Add(-time.Hour)
			e.FinishedAt = ptr(from)
			created, err := tx.Executions().Insert(ctx, e)
			require.NoError(t, err)
			require.True(t, created)
			window, before, err := reader(t, tx).SLAExecutions(ctx, job.ID, from)
			require.NoError(t, err, "the transaction sees its own writes")
			require.Empty(t, window)
			require.Len(t, before, 1)
			require.Equal(t, e.ID, before[0].ID)
			requireAsLists(t, ctx, tx, job.ID, from, window, before)
			return nil
		})
		require.NoError(t, err)
	})
}
