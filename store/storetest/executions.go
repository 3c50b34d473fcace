package storetest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"github.com/custos-dev/custos/store"
)

var _ = register("Executions", testExecutions)

func testExecutions(t *testing.T, newStore NewStoreFunc) {
	t.Run("InsertGetRoundTrip", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		j := b.job(t)
		c := b.copy(t, j.ID)
		start := someTime()
		fin := start.Add(90*time.Minute + 1500*time.Nanosecond)
		e := &store.Execution{
			JobID: j.ID, CopyID: &c.ID, RunID: "実行-" + uniq(), Status: store.ExecutionWarning,
			StartedAt: start, FinishedAt: &fin, SizeBytes: 1 << 40, Files: 123456, Errors: 2,
			Message: "一部のファイルをスキップしました", Source: store.SourceRestic, SnapshotID: "5f3c9a1b",
			LogExcerpt: "warning: 2 files skipped\n",
		}
		created, err := b.s.Executions().Insert(b.ctx, e)
		require.NoError(t, err)
		require.True(t, created)
		require.Equal(t, norm(start), e.StartedAt)
		require.Equal(t, norm(fin), *e.FinishedAt)
		require.Equal(t, time.UTC, e.StartedAt.Location())

		got, err := b.s.Executions().Get(b.ctx, e.ID)
		require.NoError(t, err)
		require.Equal(t, e, got)
		require.Equal(t, norm(fin).Sub(norm(start)), got.Duration())
		byRun, err := b.s.Executions().GetByRunID(b.ctx, j.ID, e.RunID)
		require.NoError(t, err)
		require.Equal(t, e, byRun)

		_, err = b.s.Executions().Get(b.ctx, store.NewID())
		require.ErrorIs(t, err, store.ErrNotFound)
		_, err = b.s.Executions().GetByRunID(b.ctx, j.ID, "nope")
		require.ErrorIs(t, err, store.ErrNotFound)
	})

	t.Run("SameRunIDTwiceIsOneExecution", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		j := b.job(t)
		first := b.execution(t, j.ID, func(e *store.Execution) { e.RunID = "run-1"; e.Message = "first" })

		again := newExecution(j.ID)
		again.RunID = "run-1"
		again.Message = "second"
		again.Status = store.ExecutionFailed
		created, err := b.s.Executions().Insert(b.ctx, again)
		require.NoError(t, err)
		require.False(t, created)
		require.Equal(t, first, again, "the stored execution is handed back")

		other := b.job(t)
		sameRunOtherJob := newExecution(other.ID)
		sameRunOtherJob.RunID = "run-1"
		created, err = b.s.Executions().Insert(b.ctx, sameRunOtherJob)
		require.NoError(t, err)
		require.True(t, created, "run IDs are unique per job only")

		page, err := b.s.Executions().List(b.ctx, store.ListExecutionsParams{JobID: j.ID})
		require.NoError(t, err)
		require.Len(t, page.Items, 1)
	})

	t.Run("RepeatedRunInsideTransactionKeepsItUsable", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		j := b.job(t)
		b.execution(t, j.ID, func(e *store.Execution) { e.RunID = "dup" })
		err := b.s.InTx(b.ctx, func(ctx context.Context, tx store.Repos) error {
			e := newExecution(j.ID)
			e.RunID = "dup"
			created, err := tx.Executions().Insert(ctx, e)
			if err != nil {
				return err
			}
			require.False(t, created)
			j.State = store.JobStateUp
			return tx.Jobs().Update(ctx, j)
		})
		require.NoError(t, err)
		got, err := b.s.Jobs().Get(b.ctx, j.ID)
		require.NoError(t, err)
		require.Equal(t, store.JobStateUp, got.State)
	})

	t.Run("RollbackLeavesNothing", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		j := b.job(t)
		boom := errors.New("boom")
		var id string
		err := b.s.InTx(b.ctx, func(ctx context.Context, tx store.Repos) error {
			e := newExecution(j.ID)
			if _, err := tx.Executions().Insert(ctx, e); err != nil {
				return err
			}
			id = e.ID
			j.LastResult = store.ExecutionSuccess
			if err := tx.Jobs().Update(ctx, j); err != nil {
				return err
			}
			return boom
		})
		require.ErrorIs(t, err, boom)
		_, err = b.s.Executions().Get(b.ctx, id)
		require.ErrorIs(t, err, store.ErrNotFound)
		got, err := b.s.Jobs().Get(b.ctx, j.ID)
		require.NoError(t, err)
		require.Empty(t, got.LastResult)
	})

	t.Run("RejectsBadInputAndMissingJob", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		j := b.job(t)
		for field, mod := range map[string]func(*store.Execution){
			"job_id":      func(e *store.Execution) { e.JobID = "" },
			"run_id":      func(e *store.Execution) { e.RunID = "" },
			"status":      func(e *store.Execution) { e.Status = "ok" },
			"started_at":  func(e *store.Execution) { e.StartedAt = time.Time{} },
			"finished_at": func(e *store.Execution) { e.FinishedAt = ptr(e.StartedAt.Add(-time.Second)) },
			"size_bytes":  func(e *store.Execution) { e.SizeBytes = -1 },
			"files":       func(e *store.Execution) { e.Files = -1 },
			"errors":      func(e *store.Execution) { e.Errors = -1 },
			"source":      func(e *store.Execution) { e.Source = "fax" },
		} {
			e := newExecution(j.ID)
			mod(e)
			_, err := b.s.Executions().Insert(b.ctx, e)
			requireValidation(t, err, field)
		}
		spaced := newExecution(j.ID)
		spaced.RunID = "run-1 "
		_, err := b.s.Executions().Insert(b.ctx, spaced)
		requireValidation(t, err, "run_id")

		running := newExecution(j.ID)
		running.Status = store.ExecutionRunning
		_, err = b.s.Executions().Insert(b.ctx, running)
		requireValidation(t, err, "finished_at")

		_, err = b.s.Executions().Insert(b.ctx, newExecution(store.NewID()))
		require.ErrorIs(t, err, store.ErrForeignKey)
		e := newExecution(j.ID)
		e.CopyID = ptr(store.NewID())
		_, err = b.s.Executions().Insert(b.ctx, e)
		require.ErrorIs(t, err, store.ErrForeignKey)

		page, err := b.s.Executions().List(b.ctx, store.ListExecutionsParams{})
		require.NoError(t, err)
		require.Empty(t, page.Items)
	})

	t.Run("LongTextIsTruncatedAsDocumented", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		j := b.job(t)
		e := newExecution(j.ID)
		e.Message = strings.Repeat("失", store.MaxMessageLen) + "敗"
		e.LogExcerpt = "頭" + strings.Repeat("ログ", store.MaxLogExcerptLen/2)
		created, err := b.s.Executions().Insert(b.ctx, e)
		require.NoError(t, err)
		require.True(t, created)
		got, err := b.s.Executions().Get(b.ctx, e.ID)
		require.NoError(t, err)
		require.Equal(t, store.MaxMessageLen, utf8.RuneCountInString(got.Message))
		require.Equal(t, strings.Repeat("失", store.MaxMessageLen), got.Message, "the message keeps its start")
		require.Equal(t, store.MaxLogExcerptLen, utf8.RuneCountInString(got.LogExcerpt))
		require.False(t, strings.HasPrefix(got.LogExcerpt, "頭"), "the log keeps its end")
		require.Equal(t, e, got, "the caller sees what was stored")
	})

	t.Run("FinishCompletesARunningExecutionOnce", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		j := b.job(t)
		c := b.copy(t, j.ID)
		e := b.execution(t, j.ID, func(e *store.Execution) {
			e.Status = store.ExecutionRunning
			e.FinishedAt = nil
			e.SizeBytes = 0
			e.Source = store.SourcePing
		})
		done := *e
		done.Status = store.ExecutionFailed
		done.FinishedAt = ptr(e.StartedAt.Add(time.Hour).In(tokyo))
		done.StartedAt = someTime() // ignored: a finish cannot move the start
		done.Message = "exit code 3"
		done.Errors = 3
		done.CopyID = &c.ID
		done.LogExcerpt = "error: repository locked"
		require.NoError(t, b.s.Executions().Finish(b.ctx, &done))
		got, err := b.s.Executions().Get(b.ctx, e.ID)
		require.NoError(t, err)
		require.Equal(t, store.ExecutionFailed, got.Status)
		require.Equal(t, e.StartedAt.Add(time.Hour), *got.FinishedAt)
		require.Equal(t, e.StartedAt, got.StartedAt)
		require.Equal(t, "exit code 3", got.Message)
		require.Equal(t, &c.ID, got.CopyID)
		require.Equal(t, got, &done, "the caller gets the stored row")

		again := *got
		again.Status = store.ExecutionSuccess
		requireConflict(t, b.s.Executions().Finish(b.ctx, &again), "status")
		early := b.execution(t, j.ID, func(e *store.Execution) { e.Status = store.ExecutionRunning; e.FinishedAt = nil })
		early.Status = store.ExecutionSuccess
		early.FinishedAt = ptr(early.StartedAt.Add(-time.Second))
		requireValidation(t, b.s.Executions().Finish(b.ctx, early), "finished_at")
		stored, err := b.s.Executions().Get(b.ctx, early.ID)
		require.NoError(t, err)
		require.Equal(t, store.ExecutionRunning, stored.Status, "a refused finish changes nothing")

		missing := *got
		missing.ID = store.NewID()
		require.ErrorIs(t, b.s.Executions().Finish(b.ctx, &missing), store.ErrNotFound)
		stillRunning := *got
		stillRunning.Status = store.ExecutionRunning
		requireValidation(t, b.s.Executions().Finish(b.ctx, &stillRunning), "status")
	})

	t.Run("ListFiltersOrderAndPages", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		j1, j2 := b.job(t), b.job(t)
		base := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
		var j1IDs []string
		for i := range 6 {
			e := b.execution(t, j1.ID, func(e *store.Execution) {
				e.StartedAt = base.Add(time.Duration(i) * time.Hour)
				e.FinishedAt = ptr(e.StartedAt.Add(time.Minute))
				if i%3 == 0 {
					e.Status = store.ExecutionFailed
					e.Source = store.SourcePing
				}
			})
			j1IDs = append([]string{e.ID}, j1IDs...)
		}
		// Same start time: the ID breaks the tie.
		tie1 := b.execution(t, j2.ID, func(e *store.Execution) { e.StartedAt = base; e.FinishedAt = ptr(base) })
		tie2 := b.execution(t, j2.ID, func(e *store.Execution) { e.StartedAt = base; e.FinishedAt = ptr(base) })

		list := func(p store.ListExecutionsParams) []string {
			t.Helper()
			page, err := b.s.Executions().List(b.ctx, p)
			require.NoError(t, err)
			return ids(page.Items, func(e store.Execution) string { return e.ID })
		}
		require.Equal(t, j1IDs, list(store.ListExecutionsParams{JobID: j1.ID}), "newest start first")
		require.Equal(t, []string{tie2.ID, tie1.ID}, list(store.ListExecutionsParams{JobID: j2.ID}))
		require.Len(t, list(store.ListExecutionsParams{Status: store.ExecutionFailed}), 2)
		require.Len(t, list(store.ListExecutionsParams{Source: store.SourcePing}), 2)
		require.Equal(t, []string{j1IDs[3], j1IDs[4]}, list(store.ListExecutionsParams{
			JobID:   j1.ID,
			Started: store.TimeRange{From: base.Add(time.Hour).In(tokyo), To: base.Add(3 * time.Hour)},
		}), "From inclusive, To exclusive, any zone")

		seen := paginate(t, 3, func(p store.PageParams) (*store.Page[store.Execution], error) {
			return b.s.Executions().List(b.ctx, store.ListExecutionsParams{PageParams: p})
		}, func() {
			b.execution(t, j1.ID, func(e *store.Execution) { e.StartedAt = base.Add(-time.Hour); e.FinishedAt = ptr(base) })
			b.execution(t, j1.ID, func(e *store.Execution) { e.StartedAt = base.Add(time.Hour); e.FinishedAt = ptr(e.StartedAt) })
		}, func(e store.Execution) string { return e.ID })
		require.GreaterOrEqual(t, len(seen), 8)
	})

	t.Run("CountsSumsAndRetention", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		j1, j2 := b.job(t), b.job(t)
		base := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
		for i, st := range []store.ExecutionStatus{store.ExecutionSuccess, store.ExecutionSuccess, store.ExecutionFailed, store.ExecutionMissed} {
			b.execution(t, j1.ID, func(e *store.Execution) {
				e.Status = st
				e.StartedAt = base.Add(time.Duration(i) * 24 * time.Hour)
				e.FinishedAt = ptr(e.StartedAt)
				e.SizeBytes = 100
			})
		}
		b.execution(t, j2.ID, func(e *store.Execution) {
			e.StartedAt = base
			e.FinishedAt = ptr(base)
			e.SizeBytes = 1000
		})
		running := b.execution(t, j2.ID, func(e *store.Execution) {
			e.Status = store.ExecutionRunning
			e.StartedAt = base.Add(-48 * time.Hour)
			e.FinishedAt = nil
			e.SizeBytes = 0
		})
		counts, err := b.s.Executions().CountByStatus(b.ctx, j1.ID, store.TimeRange{})
		require.NoError(t, err)
		require.Equal(t, map[store.ExecutionStatus]int64{store.ExecutionSuccess: 2, store.ExecutionFailed: 1, store.ExecutionMissed: 1}, counts)
		counts, err = b.s.Executions().CountByStatus(b.ctx, "", store.TimeRange{From: base, To: base.Add(24 * time.Hour)})
		require.NoError(t, err)
		require.Equal(t, map[store.ExecutionStatus]int64{store.ExecutionSuccess: 2}, counts)
		sum, err := b.s.Executions().SumSizeBytes(b.ctx, store.TimeRange{From: base, To: base.Add(48 * time.Hour)})
		require.NoError(t, err)
		require.Equal(t, int64(1200), sum)
		sum, err = b.s.Executions().SumSizeBytes(b.ctx, store.TimeRange{From: base.Add(time.Hour * 24 * 365)})
		require.NoError(t, err)
		require.Zero(t, sum)

		n, err := b.s.Executions().DeleteBefore(b.ctx, base.Add(24*time.Hour))
		require.NoError(t, err)
		require.Equal(t, int64(2), n, "finished runs before the cut go; a running one stays")
		_, err = b.s.Executions().Get(b.ctx, running.ID)
		require.NoError(t, err)
	})

	t.Run("BatchInsertIsIdempotent", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		j1, j2 := b.job(t), b.job(t)
		old := b.execution(t, j1.ID, func(e *store.Execution) { e.RunID = "old" })

		batch := []*store.Execution{
			newExecution(j1.ID),
			newExecution(j2.ID),
			newExecution(j1.ID),
			newExecution(j2.ID),
		}
		batch[0].RunID = "old"
		batch[0].Message = "not stored"
		batch[3].RunID = batch[1].RunID
		batch[3].Message = "repeat within the batch"
		created, err := b.s.Executions().InsertBatch(b.ctx, batch)
		require.NoError(t, err)
		require.Equal(t, []bool{false, true, true, false}, created)
		require.Equal(t, old, batch[0])
		require.Equal(t, batch[1], batch[3])

		again := []*store.Execution{newExecution(j2.ID)}
		again[0].RunID = batch[1].RunID
		created, err = b.s.Executions().InsertBatch(b.ctx, again)
		require.NoError(t, err)
		require.Equal(t, []bool{false}, created)
		require.Equal(t, batch[1].ID, again[0].ID)

		for _, e := range batch {
			got, err := b.s.Executions().Get(b.ctx, e.ID)
			require.NoError(t, err)
			require.Equal(t, e, got)
		}
		c1, err := b.s.Executions().CountByStatus(b.ctx, "", store.TimeRange{})
		require.NoError(t, err)
		require.Equal(t, int64(3), c1[store.ExecutionSuccess])

		created, err = b.s.Executions().InsertBatch(b.ctx, nil)
		require.NoError(t, err)
		require.Empty(t, created)
	})

	t.Run("BatchIsAllOrNothing", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		j := b.job(t)
		bad := []*store.Execution{newExecution(j.ID), newExecution(j.ID)}
		bad[1].Status = "weird"
		_, err := b.s.Executions().InsertBatch(b.ctx, bad)
		requireValidation(t, err, "items[1].status")

		missing := []*store.Execution{newExecution(j.ID), newExecution(store.NewID())}
		_, err = b.s.Executions().InsertBatch(b.ctx, missing)
		require.ErrorIs(t, err, store.ErrForeignKey)

		page, err := b.s.Executions().List(b.ctx, store.ListExecutionsParams{})
		require.NoError(t, err)
		require.Empty(t, page.Items, "a failed batch writes nothing")
	})

	t.Run("LargeBatchLandsWhole", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		j := b.job(t)
		batch := make([]*store.Execution, 1200)
		for i := range batch {
			batch[i] = newExecution(j.ID)
			batch[i].Message = fmt.Sprintf("実行 %d", i)
		}
		created, err := b.s.Executions().InsertBatch(b.ctx, batch)
		require.NoError(t, err)
		for i, c := range created {
			require.True(t, c, "row %d", i)
		}
		counts, err := b.s.Executions().CountByStatus(b.ctx, j.ID, store.TimeRange{})
		require.NoError(t, err)
		require.Equal(t, int64(1200), counts[store.ExecutionSuccess])
	})

	t.Run("BatchOfLongLogsFitsEveryDatabase", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		j := b.job(t)
		// 400 runs with full Japanese log excerpts: about 19 MB of SQL as
		// one statement, more than MariaDB accepts by default.
		log := strings.Repeat("ログ", store.MaxLogExcerptLen/2)
		batch := make([]*store.Execution, 400)
		for i := range batch {
			batch[i] = newExecution(j.ID)
			batch[i].LogExcerpt = log
		}
		created, err := b.s.Executions().InsertBatch(b.ctx, batch)
		require.NoError(t, err)
		require.NotContains(t, created, false)
		got, err := b.s.Executions().Get(b.ctx, batch[399].ID)
		require.NoError(t, err)
		require.Equal(t, log, got.LogExcerpt)
	})

	t.Run("ConcurrentWritersAllLand", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		const writers, perWriter = 8, 200
		jobs := make([]*store.Job, writers)
		for i := range jobs {
			jobs[i] = b.job(t)
		}
		var wg sync.WaitGroup
		errs := make(chan error, writers*perWriter)
		for w := range writers {
			wg.Go(func() {
				for i := range perWriter {
					e := newExecution(jobs[(w+i)%writers].ID)
					if _, err := b.s.Executions().Insert(b.ctx, e); err != nil {
						errs <- err
						return
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			require.NoError(t, err, "no busy or lock error may reach the caller")
		}
		counts, err := b.s.Executions().CountByStatus(b.ctx, "", store.TimeRange{})
		require.NoError(t, err)
		require.Equal(t, int64(writers*perWriter), counts[store.ExecutionSuccess])
	})

	t.Run("ConcurrentOverlappingBatchesStoreEachRunOnce", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		j := b.job(t)
		const writers, shared, own = 4, 40, 20
		createdShared := make([]int, shared)
		var mu sync.Mutex
		var wg sync.WaitGroup
		errs := make(chan error, writers)
		for w := range writers {
			wg.Go(func() {
				batch := make([]*store.Execution, 0, shared+own)
				for i := range shared {
					e := newExecution(j.ID)
					e.RunID = fmt.Sprintf("shared-%d", i)
					batch = append(batch, e)
				}
				for i := range own {
					e := newExecution(j.ID)
					e.RunID = fmt.Sprintf("own-%d-%d", w, i)
					batch = append(batch, e)
				}
				created, err := b.s.Executions().InsertBatch(b.ctx, batch)
				if err != nil {
					errs <- err
					return
				}
				mu.Lock()
				defer mu.Unlock()
				for i := range shared {
					if created[i] {
						createdShared[i]++
					}
				}
				for i := shared; i < len(batch); i++ {
					if !created[i] {
						errs <- fmt.Errorf("own run %s reported as existing", batch[i].RunID)
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			require.NoError(t, err)
		}
		for i, n := range createdShared {
			require.Equal(t, 1, n, "shared run %d reported created by %d batches", i, n)
		}
		counts, err := b.s.Executions().CountByStatus(b.ctx, j.ID, store.TimeRange{})
		require.NoError(t, err)
		require.Equal(t, int64(shared+writers*own), counts[store.ExecutionSuccess])
	})

	t.Run("ConcurrentRepeatsOfOneRunStoreOneRow", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		j := b.job(t)
		const n = 8
		var wg sync.WaitGroup
		results := make(chan bool, n)
		errs := make(chan error, n)
		for range n {
			wg.Go(func() {
				e := newExecution(j.ID)
				e.RunID = "same"
				created, err := b.s.Executions().Insert(b.ctx, e)
				if err != nil {
					errs <- err
					return
				}
				results <- created
			})
		}
		wg.Wait()
		close(results)
		close(errs)
		for err := range errs {
			require.NoError(t, err)
		}
		won := 0
		for c := range results {
			if c {
				won++
			}
		}
		require.Equal(t, 1, won)
		page, err := b.s.Executions().List(b.ctx, store.ListExecutionsParams{JobID: j.ID})
		require.NoError(t, err)
		require.Len(t, page.Items, 1)
	})
}
