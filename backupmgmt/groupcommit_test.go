package backupmgmt

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/custos-dev/custos/store"
	"github.com/custos-dev/custos/store/bunstore/dbopen"
)

// gatedStore counts top-level transactions; the first waits for gate, and
// transaction number failTx fails after fn ran, as a lost commit would.
type gatedStore struct {
	store.Store
	txs    atomic.Int64
	gate   chan struct{}
	failTx atomic.Int64
}

func (g *gatedStore) InTx(ctx context.Context, fn func(ctx context.Context, tx store.Repos) error) error {
	n := g.txs.Add(1)
	if n == 1 {
		<-g.gate
	}
	if g.failTx.Load() == n {
		err := g.Store.InTx(ctx, func(ctx context.Context, tx store.Repos) error {
			if err := fn(ctx, tx); err != nil {
				return err
			}
			return errors.New("disk I/O error")
		})
		return err
	}
	return g.Store.InTx(ctx, fn)
}

// queued is how many runs wait for the committer.
func (s *Service) queued() int {
	s.group.mu.Lock()
	defer s.group.mu.Unlock()
	return len(s.group.pending)
}

func TestGroupCommit(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, kind dbopen.Kind) {
		b := setup(t, kind, nil)
		gs := &gatedStore{Store: b.store, gate: make(chan struct{})}
		svc, err := New(gs, &Config{Now: b.clock.Now})
		require.NoError(t, err)
		ctx := t.Context()
		const n = 40
		jobs := make([]*store.Job, 4)
		for i := range jobs {
			jobs[i] = b.jobFixture(t, fmt.Sprintf("job-%d", i), nil)
		}
		failing := b.jobFixture(t, "failing", nil)
		type outcome struct {
			res *RecordResult
			err error
		}
		out := make([]outcome, n+1)
		var wg sync.WaitGroup
		record := func(i int, p RecordParams) {
			defer wg.Done()
			out[i].res, out[i].err = svc.Executions().Record(ctx, p)
		}
		// The first run holds the committer in its transaction; the others
		// queue behind it and then share one transaction.
		wg.Add(1)
		go record(0, b.ingestRun(jobs[0], "first", store.ExecutionSuccess, time.Hour, time.Minute))
		require.Eventually(t, func() bool { return gs.txs.Load() == 1 }, 10*time.Second, time.Millisecond)
		for i := 1; i <= n; i++ {
			p := b.ingestRun(jobs[i%len(jobs)], fmt.Sprintf("run-%d", i), store.ExecutionSuccess, time.Duration(n-i+1)*time.Minute, time.Second)
			if i == 7 {
				p.JobID = "no-such-job" // bad input fails alone
			}
			if i == 9 {
				p.JobID, p.Status = failing.ID, store.ExecutionFailed
			}
			wg.Add(1)
			go record(i, p)
		}
		require.Eventually(t, func() bool { return svc.queued() == n }, 10*time.Second, time.Millisecond)
		close(gs.gate)
		wg.Wait()

		require.EqualValues(t, 2, gs.txs.Load(), "40 waiting runs share one transaction")
		for i, o := range out {
			if i == 7 {
				var ve *store.ValidationError
				require.ErrorAs(t, o.err, &ve)
				require.Contains(t, ve.Fields, "job_id")
				continue
			}
			require.NoError(t, o.err, "run %d", i)
			require.True(t, o.res.Created, "run %d", i)
		}
		total := 0
		for _, j := range append(jobs, failing) {
			total += len(b.ingestRuns(t, j.ID))
		}
		require.Equal(t, n, total, "every run but the bad one is stored")
		require.NotNil(t, b.ingestAlert(t, store.AlertBackupFailed, failing.ID), "a failure in a group raises its alert")

		// A group whose commit fails is recorded again run by run: every
		// run that gets its result is stored, once.
		gs.failTx.Store(2)
		gs.txs.Store(0)
		gs.gate = make(chan struct{})
		wg.Add(1)
		go record(0, b.ingestRun(jobs[0], "second", store.ExecutionSuccess, 30*time.Second, time.Second))
		require.Eventually(t, func() bool { return gs.txs.Load() == 1 }, 10*time.Second, time.Millisecond)
		for i := 1; i <= 5; i++ {
			wg.Add(1)
			go record(i, b.ingestRun(jobs[1], fmt.Sprintf("retry-%d", i), store.ExecutionSuccess, time.Duration(10-i)*time.Second, time.Second))
		}
		require.Eventually(t, func() bool { return svc.queued() == 5 }, 10*time.Second, time.Millisecond)
		close(gs.gate)
		wg.Wait()
		require.EqualValues(t, 2+5, gs.txs.Load(), "the failed group, then a transaction per run")
		for i := 0; i <= 5; i++ {
			require.NoError(t, out[i].err, "run %d", i)
			require.True(t, out[i].res.Created, "run %d", i)
		}
		runs := b.ingestRuns(t, jobs[1].ID)
		seen := map[string]int{}
		for _, r := range runs {
			seen[r.RunID]++
		}
		for i := 1; i <= 5; i++ {
			require.Equal(t, 1, seen[fmt.Sprintf("retry-%d", i)])
		}
	})
}

func TestGroupCommitOff(t *testing.T) {
	t.Parallel()
	b := setup(t, dbopen.SQLite, nil)
	gs := &gatedStore{Store: b.store, gate: make(chan struct{})}
	close(gs.gate)
	svc, err := New(gs, &Config{Now: b.clock.Now, IngestGroupMax: 1})
	require.NoError(t, err)
	job := b.jobFixture(t, "solo", nil)
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Go(func() {
			_, err := svc.Executions().Record(t.Context(), b.ingestRun(job, fmt.Sprintf("r%d", i), store.ExecutionSuccess, time.Duration(30-i)*time.Minute, time.Second))
			require.NoError(t, err)
		})
	}
	wg.Wait()
	require.EqualValues(t, 20, gs.txs.Load(), "IngestGroupMax 1: a transaction per run")
	require.Zero(t, svc.queued())
}

// TestGroupCommitCarriesJobState queues several runs of one job into one
// group: each run sees what the runs before it did to the job, and a run
// refused on input leaves the job as the others made it.
func TestGroupCommitCarriesJobState(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, kind dbopen.Kind) {
		b := setup(t, kind, nil)
		gs := &gatedStore{Store: b.store, gate: make(chan struct{})}
		svc, err := New(gs, &Config{Now: b.clock.Now})
		require.NoError(t, err)
		ctx := t.Context()
		job := b.jobFixture(t, "flaky", nil)
		other := b.jobFixture(t, "other", nil)
		var wg sync.WaitGroup
		errs := make([]error, 8)
		record := func(i int, p RecordParams) {
			defer wg.Done()
			_, errs[i] = svc.Executions().Record(ctx, p)
		}
		wg.Add(1)
		go record(0, b.ingestRun(other, "hold", store.ExecutionSuccess, time.Hour, time.Minute))
		require.Eventually(t, func() bool { return gs.txs.Load() == 1 }, 10*time.Second, time.Millisecond)
		for i := 1; i < len(errs); i++ {
			p := b.ingestRun(job, fmt.Sprintf("f-%d", i), store.ExecutionFailed, time.Duration(10-i)*time.Minute, time.Second)
			if i == 4 {
				bad := "no-such-copy"
				p.CopyID = &bad
			}
			wg.Add(1)
			go record(i, p)
			// One at a time, so the queue holds them in order.
			require.Eventually(t, func() bool { return svc.queued() == i }, 10*time.Second, time.Millisecond)
		}
		close(gs.gate)
		wg.Wait()
		require.EqualValues(t, 2, gs.txs.Load(), "the runs shared one transaction")
		for i, err := range errs {
			if i == 4 {
				require.Error(t, err)
				continue
			}
			require.NoError(t, err, "run %d", i)
		}
		got, err := b.store.Jobs().Get(ctx, job.ID)
		require.NoError(t, err)
		require.Equal(t, 6, got.ConsecutiveFailures, "six failures counted, one after another")
		require.Equal(t, store.JobStateFailed, got.State)
		require.Len(t, b.ingestRuns(t, job.ID), 6)
		a := b.ingestAlert(t, store.AlertBackupFailed, job.ID)
		require.NotNil(t, a)
		require.Equal(t, store.SeverityCritical, a.Severity, "escalated after 3 consecutive failures within the group")
		require.Equal(t, 6, a.Occurrences)
	})
}
