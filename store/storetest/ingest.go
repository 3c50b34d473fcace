package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/custos-dev/custos/store"
)

var _ = register("Ingest", testIngest)

// testIngest checks the optional ingest capabilities of store/ingest.go
// against the general methods they stand for. Stores without them skip.
func testIngest(t *testing.T, newStore NewStoreFunc) {
	t.Run("RecentSuccessesMatchListingTheRuns", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		if _, ok := b.s.(store.SuccessSampler); !ok {
			t.Skip("store has no RecentSuccesses")
		}
		job, other := b.job(t), b.job(t)
		base := time.Date(2026, 11, 4, 0, 0, 0, 0, time.UTC)
		run := func(jobID string, st store.ExecutionStatus, at time.Time, size int64, dur time.Duration) {
			b.execution(t, jobID, func(e *store.Execution) {
				e.Status, e.StartedAt, e.SizeBytes = st, at, size
				e.FinishedAt = nil
				if st != store.ExecutionRunning {
					fin := at.Add(dur)
					e.FinishedAt = &fin
				}
			})
		}
		statuses := []store.ExecutionStatus{
			store.ExecutionSuccess, store.ExecutionFailed, store.ExecutionSuccess, store.ExecutionWarning,
			store.ExecutionSuccess, store.ExecutionMissed, store.ExecutionSuccess, store.ExecutionSuccess,
			store.ExecutionCanceled, store.ExecutionSuccess, store.ExecutionRunning, store.ExecutionSuccess,
		}
		for i, st := range statuses {
			at := base.Add(time.Duration(i) * time.Hour)
			run(job.ID, st, at, int64(1000+i), time.Duration(i+1)*time.Minute)
			run(other.ID, store.ExecutionSuccess, at.Add(time.Minute), 7, time.Second)
		}
		// Two successes started at the same instant: ID breaks the tie.
		run(job.ID, store.ExecutionSuccess, base.Add(5*time.Hour), 50, time.Second)
		run(job.ID, store.ExecutionSuccess, base.Add(90*time.Minute+time.Microsecond), 60, 0)

		cases := []store.RecentSuccessesParams{
			{JobID: job.ID, Before: base.Add(100 * time.Hour), Scan: store.LimitMax, Limit: 10},
			{JobID: job.ID, Before: base.Add(100 * time.Hour), Scan: 5, Limit: 10},
			{JobID: job.ID, Before: base.Add(7 * time.Hour), Scan: 200, Limit: 3},
			{JobID: job.ID, Before: base.Add(5 * time.Hour), Scan: 4, Limit: 4},
			{JobID: job.ID, Scan: 20, Limit: 20},
			{JobID: job.ID, Before: base, Scan: 10, Limit: 10},
			{JobID: "no-such-job", Before: base.Add(100 * time.Hour), Scan: 10, Limit: 10},
		}
		for _, p := range cases {
			want := recentSuccessesByList(t, b.ctx, b.s, p)
			got, err := b.s.(store.SuccessSampler).RecentSuccesses(b.ctx, p)
			require.NoError(t, err)
			require.Equal(t, want, got, "%+v", p)
			// And the same inside a transaction, on its Repos.
			require.NoError(t, b.s.InTx(b.ctx, func(ctx context.Context, tx store.Repos) error {
				sampler, ok := tx.(store.SuccessSampler)
				require.True(t, ok, "the transaction's Repos has the capability too")
				got, err := sampler.RecentSuccesses(ctx, p)
				require.NoError(t, err)
				require.Equal(t, want, got, "%+v in a transaction", p)
				return nil
			}))
		}
	})

	t.Run("RecentSuccessesRejectsBadBounds", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		sampler, ok := b.s.(store.SuccessSampler)
		if !ok {
			t.Skip("store has no RecentSuccesses")
		}
		for _, p := range []store.RecentSuccessesParams{
			{Scan: 10, Limit: 5},
			{JobID: "j", Scan: 0, Limit: 1},
			{JobID: "j", Scan: store.LimitMax + 1, Limit: 1},
			{JobID: "j", Scan: 5, Limit: 0},
		} {
			_, err := sampler.RecentSuccesses(b.ctx, p)
			var ve *store.ValidationError
			require.True(t, errors.As(err, &ve), "%+v: %v", p, err)
		}
	})
}

// recentSuccessesByList is what store.SuccessSampler stands for, through
// ExecutionStore.List.
func recentSuccessesByList(t *testing.T, ctx context.Context, s store.Store, p store.RecentSuccessesParams) []store.SuccessSample {
	t.Helper()
	lp := store.ListExecutionsParams{JobID: p.JobID, Started: store.TimeRange{To: p.Before}}
	lp.Limit = 3
	out := []store.SuccessSample{}
	for rank := 0; rank < p.Scan; {
		page, err := s.Executions().List(ctx, lp)
		require.NoError(t, err)
		for _, e := range page.Items {
			if rank >= p.Scan {
				break
			}
			if e.Status == store.ExecutionSuccess && len(out) < p.Limit {
				out = append(out, store.SuccessSample{Rank: rank, StartedAt: e.StartedAt, SizeBytes: e.SizeBytes, Duration: e.Duration()})
			}
			rank++
		}
		if page.NextCursor == "" {
			break
		}
		lp.Cursor = page.NextCursor
	}
	return out
}
