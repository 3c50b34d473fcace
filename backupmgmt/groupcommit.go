package backupmgmt

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/custos-dev/custos/store"
)

// Group commit: concurrent Record calls share one transaction, so that
// many runs cost one durable commit (one fsync on SQLite, one WAL flush on
// PostgreSQL) instead of one each. Each run is recorded in its own
// savepoint with its own caller's context values (actor, query counters),
// and no Record returns before the commit that holds its run.
//
// One committer goroutine at a time drains the queue; it starts when a run
// arrives and nobody is committing, and ends when the queue is empty, so an
// idle service holds no goroutine and needs no Close. While it commits one
// group, the next group gathers.

// IngestGroupMaxDefault is the default of Config.IngestGroupMax.
const IngestGroupMaxDefault = 128

// groupCommit is the queue of runs waiting for a commit.
type groupCommit struct {
	mu      sync.Mutex
	pending []*groupItem
	running bool
}

// groupItem is one Record waiting for its commit.
type groupItem struct {
	ctx  context.Context
	p    RecordParams
	res  *RecordResult
	err  error
	done chan struct{}
}

// recordGrouped records a prepared run through the group commit queue and
// waits for its commit (or its error).
func (s *Service) recordGrouped(ctx context.Context, p RecordParams) (*RecordResult, error) {
	it := &groupItem{ctx: ctx, p: p, done: make(chan struct{})}
	g := &s.group
	g.mu.Lock()
	g.pending = append(g.pending, it)
	start := !g.running
	g.running = true
	g.mu.Unlock()
	if start {
		go s.commitLoop()
	}
	<-it.done
	return it.res, it.err
}

// commitLoop commits groups until the queue is empty.
func (s *Service) commitLoop() {
	g := &s.group
	for {
		g.mu.Lock()
		n := min(len(g.pending), s.cfg.IngestGroupMax)
		if n == 0 {
			g.running = false
			g.pending = nil
			g.mu.Unlock()
			return
		}
		batch := make([]*groupItem, n)
		copy(batch, g.pending)
		rest := copy(g.pending, g.pending[n:])
		clear(g.pending[rest:])
		g.pending = g.pending[:rest]
		g.mu.Unlock()
		s.commitGroup(batch)
	}
}

// commitGroup records the runs of batch and tells each its outcome. A
// single run is recorded as Record alone would; several share one
// transaction, each in a savepoint. A run that fails on bad input gets its
// error and the others go on; any other failure rolls the group back, and
// each run is then recorded on its own, so one run's failure is never
// another's.
func (s *Service) commitGroup(batch []*groupItem) {
	defer func() {
		for _, it := range batch {
			close(it.done)
		}
	}()
	if len(batch) == 1 {
		it := batch[0]
		it.res, it.err = s.recordAlone(it.ctx, it.p)
		return
	}
	results := make([]*RecordResult, len(batch))
	errs := make([]error, len(batch))
	// The group is not the callers': no caller's cancellation may abort the
	// others' runs. Each run keeps its caller's values.
	gctx := context.WithoutCancel(batch[0].ctx)
	err := s.inTx(gctx, func(txCtx context.Context, tx store.Repos) error {
		clear(results)
		clear(errs)
		memo := txCtx.Value(txMemoKey{})
		if err := prefetchGroupJobs(txCtx, tx, batch); err != nil {
			return err
		}
		for i, it := range batch {
			ctx := context.WithValue(context.WithoutCancel(it.ctx), txMemoKey{}, memo)
			mark := afterCommitMark(ctx)
			err := tx.InTx(ctx, func(ctx context.Context, tx store.Repos) error {
				var err error
				results[i], err = s.ingestRecord(ctx, tx, it.p)
				return err
			})
			if err == nil {
				continue
			}
			afterCommitUndo(ctx, mark)
			// The savepoint undid what the run wrote: its job is read
			// again by the next run that needs it.
			if m, _ := memo.(*txMemo); m != nil {
				delete(m.groupJobs, it.p.JobID)
			}
			if !inputError(err) {
				return err
			}
			results[i], errs[i] = nil, err
		}
		return nil
	})
	if err != nil {
		// The group rolled back: each run on its own, so the one that
		// failed fails alone.
		for _, it := range batch {
			it.res, it.err = s.recordAlone(it.ctx, it.p)
		}
		return
	}
	for i, it := range batch {
		it.res, it.err = results[i], errs[i]
	}
}

// prefetchGroupJobs reads and locks the jobs the runs of batch name by ID
// with one statement, where the store can, into the memo of ctx. Runs that
// name a job nobody has, or by name, read it themselves.
func prefetchGroupJobs(ctx context.Context, tx store.Repos, batch []*groupItem) error {
	memo, _ := ctx.Value(txMemoKey{}).(*txMemo)
	var read func(ctx context.Context, ids []string) ([]store.Job, error)
	if rr, ok := tx.(store.RunRecorder); ok {
		read = rr.GetJobsForRun
	} else if l, ok := tx.Jobs().(store.JobLocker); ok {
		read = l.GetManyForUpdate
	}
	if memo == nil || read == nil {
		return nil
	}
	ids := make([]string, 0, len(batch))
	seen := make(map[string]bool, len(batch))
	for _, it := range batch {
		if id := it.p.JobID; id != "" && !seen[id] {
			seen[id] = true
			ids = append(ids, id)
		}
	}
	if len(ids) < 2 {
		return nil
	}
	jobs, err := read(ctx, ids)
	if err != nil {
		return fmt.Errorf("backupmgmt: read the group's jobs: %w", err)
	}
	memo.groupJobs = make(map[string]*store.Job, len(jobs))
	for i := range jobs {
		memo.groupJobs[jobs[i].ID] = &jobs[i]
	}
	return nil
}

// groupJob returns the job of id that the group commit of ctx read, if
// any.
func groupJob(ctx context.Context, id string) *store.Job {
	if memo, _ := ctx.Value(txMemoKey{}).(*txMemo); memo != nil {
		return memo.groupJobs[id]
	}
	return nil
}

// recordAlone records a prepared run in a transaction of its own.
func (s *Service) recordAlone(ctx context.Context, p RecordParams) (*RecordResult, error) {
	var out *RecordResult
	err := s.inTx(ctx, func(ctx context.Context, tx store.Repos) error {
		var err error
		out, err = s.ingestRecord(ctx, tx, p)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// inputError reports an error of one run's input, which fails that run and
// leaves its group's transaction usable (its savepoint was rolled back).
func inputError(err error) bool {
	var ve *store.ValidationError
	return errors.As(err, &ve) || errors.Is(err, ErrKeyJobMismatch)
}
