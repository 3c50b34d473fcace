package storetest

import (
	"context"
	"errors"
	"slices"
	"strings"
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
	t.Run("RunRecorderMatchesTheGeneralMethods", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		at := time.Date(2026, 11, 4, 3, 4, 5, 678901000, time.UTC)
		asset := b.asset(t)
		owner := b.user(t)
		bare := b.job(t, func(j *store.Job) { j.Tags = nil })
		full := b.job(t, func(j *store.Job) {
			j.AssetID, j.OwnerID = &asset.ID, &owner.ID
			j.State, j.LastResult, j.ConsecutiveFailures = store.JobStateFailed, store.ExecutionFailed, 3
			j.NextDueAt, j.LastRunAt, j.LastSuccessAt = &at, &at, &at
		})
		plainCopy := b.copy(t, bare.ID)
		media := b.media(t)
		fullCopy := b.copy(t, full.ID, func(c *store.Copy) {
			c.Offsite, c.Immutable, c.Encrypted, c.Compressed = true, true, true, true
			c.ImmutableUntil, c.LastWrittenAt, c.LastSizeBytes = &at, &at, 42
			c.MediaType, c.MediaID = store.MediaTape, &media.ID
		})
		var more []string
		for range 20 {
			more = append(more, b.job(t).ID)
		}
		inTx := func(fn func(ctx context.Context, tx store.Repos, rr store.RunRecorder)) {
			t.Helper()
			require.NoError(t, b.s.InTx(b.ctx, func(ctx context.Context, tx store.Repos) error {
				rr, ok := tx.(store.RunRecorder)
				if !ok {
					t.Skip("store has no RunRecorder")
				}
				fn(ctx, tx, rr)
				return nil
			}))
		}
		inTx(func(ctx context.Context, tx store.Repos, rr store.RunRecorder) {
			for _, id := range []string{bare.ID, full.ID} {
				want, err := tx.Jobs().Get(ctx, id)
				require.NoError(t, err)
				got, err := rr.GetJobForRun(ctx, id)
				require.NoError(t, err)
				require.Equal(t, want, got)
			}
			for _, id := range []string{plainCopy.ID, fullCopy.ID} {
				want, err := tx.Copies().Get(ctx, id)
				require.NoError(t, err)
				got, err := rr.GetCopyForRun(ctx, id)
				require.NoError(t, err)
				require.Equal(t, want, got)
			}
			// Many at once, in chunks: more IDs than one statement takes,
			// with repeats and IDs that name nothing.
			ids := append([]string{full.ID, "no-such-id", "", bare.ID, "nul\x00", full.ID}, more...)
			many, err := rr.GetJobsForRun(ctx, ids)
			require.NoError(t, err)
			require.Len(t, many, 22)
			require.True(t, slices.IsSortedFunc(many, func(a, b store.Job) int { return strings.Compare(a.ID, b.ID) }), "ordered by ID")
			for i := range many {
				want, err := tx.Jobs().Get(ctx, many[i].ID)
				require.NoError(t, err)
				require.Equal(t, *want, many[i])
			}
			none, err := rr.GetJobsForRun(ctx, []string{"no-such-id"})
			require.NoError(t, err)
			require.Empty(t, none)
			for _, id := range []string{"", "no-such-id", "nul\x00"} {
				_, err := rr.GetJobForRun(ctx, id)
				require.ErrorIs(t, err, store.ErrNotFound)
				_, err = rr.GetCopyForRun(ctx, id)
				require.ErrorIs(t, err, store.ErrNotFound)
			}
		})

		// Inserts: a new run with every optional column, one with none, and
		// a repeat that returns the stored row.
		key := b.apiKey(t, owner.ID)
		rich := newExecution(full.ID)
		rich.CopyID, rich.APIKeyID = &fullCopy.ID, &key.ID
		rich.SnapshotID, rich.LogExcerpt, rich.Errors = "snap-1", "line 1\nline 2", 2
		rich.StartedAt = at.Add(time.Nanosecond * 1500)
		rich.FinishedAt = ptrTo(rich.StartedAt.Add(time.Minute))
		running := newExecution(bare.ID)
		running.Status, running.FinishedAt = store.ExecutionRunning, nil
		var repeatOf store.Execution
		inTx(func(ctx context.Context, tx store.Repos, rr store.RunRecorder) {
			for _, e := range []*store.Execution{rich, running} {
				created, err := rr.InsertRun(ctx, e)
				require.NoError(t, err)
				require.True(t, created)
				stored, err := tx.Executions().Get(ctx, e.ID)
				require.NoError(t, err)
				require.Equal(t, stored, e, "the row holds what the insert returned")
			}
			repeat := newExecution(full.ID)
			repeat.RunID, repeat.Message = rich.RunID, "again"
			created, err := rr.InsertRun(ctx, repeat)
			require.NoError(t, err)
			require.False(t, created)
			require.Equal(t, rich, repeat, "a repeat returns the stored run")
			repeatOf = *repeat
		})
		require.Equal(t, *rich, repeatOf)

		// Errors are those of the general method.
		for _, mod := range []func(e *store.Execution){
			func(e *store.Execution) { e.JobID = "no-such-job" },
			func(e *store.Execution) { e.CopyID = ptrTo("no-such-copy") },
			func(e *store.Execution) { e.Status = "bogus" },
		} {
			general, prepared := newExecution(full.ID), newExecution(full.ID)
			mod(general)
			mod(prepared)
			prepared.RunID = general.RunID
			var errGeneral, errPrepared error
			_ = b.s.InTx(b.ctx, func(ctx context.Context, tx store.Repos) error {
				_, errGeneral = tx.Executions().Insert(ctx, general)
				return errGeneral
			})
			_ = b.s.InTx(b.ctx, func(ctx context.Context, tx store.Repos) error {
				_, errPrepared = tx.(store.RunRecorder).InsertRun(ctx, prepared)
				return errPrepared
			})
			require.Error(t, errGeneral)
			require.Equal(t, errGeneral, errPrepared)
		}

		// Updates write the run state and the last write, and nothing else.
		later := at.Add(time.Hour)
		inTx(func(ctx context.Context, tx store.Repos, rr store.RunRecorder) {
			j, err := rr.GetJobForRun(ctx, full.ID)
			require.NoError(t, err)
			j.State, j.LastResult, j.ConsecutiveFailures = store.JobStateUp, store.ExecutionSuccess, 0
			j.NextDueAt, j.LastRunAt, j.LastSuccessAt = nil, &later, &later
			require.NoError(t, rr.UpdateJobRun(ctx, j))
			stored, err := tx.Jobs().Get(ctx, full.ID)
			require.NoError(t, err)
			require.Equal(t, j, stored)
			require.Equal(t, full.Name, stored.Name)
			require.Equal(t, full.Tags, stored.Tags)

			c, err := rr.GetCopyForRun(ctx, fullCopy.ID)
			require.NoError(t, err)
			c.LastWrittenAt, c.LastSizeBytes, c.Status = &later, 7, store.CopyStatusWarning
			require.NoError(t, rr.UpdateCopyWrite(ctx, c))
			storedCopy, err := tx.Copies().Get(ctx, fullCopy.ID)
			require.NoError(t, err)
			require.Equal(t, c, storedCopy)
			require.Equal(t, fullCopy.ImmutableUntil, storedCopy.ImmutableUntil)

			gone := *j
			gone.ID = "no-such-job"
			require.ErrorIs(t, rr.UpdateJobRun(ctx, &gone), store.ErrNotFound)
			goneCopy := *c
			goneCopy.ID = "no-such-copy"
			require.ErrorIs(t, rr.UpdateCopyWrite(ctx, &goneCopy), store.ErrNotFound)
			bad := *j
			bad.State = "bogus"
			var ve *store.ValidationError
			require.True(t, errors.As(rr.UpdateJobRun(ctx, &bad), &ve))
		})
	})
}

func ptrTo[T any](v T) *T { return &v }

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
