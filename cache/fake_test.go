package cache_test

import (
	"context"
	"sync"
	"sync/atomic"

	"github.com/custos-dev/custos/store"
)

// fakeStore is a store.Store of which only the job store, Close and InTx
// work: enough to watch what the cache asks of the store it wraps. Calls to
// anything else panic (the nil embedded interface).
type fakeStore struct {
	store.Store
	jobs   *fakeJobs
	closed atomic.Bool
}

func newFakeStore() *fakeStore {
	return &fakeStore{jobs: &fakeJobs{rows: map[string]store.Job{}}}
}

func (f *fakeStore) Jobs() store.JobStore { return f.jobs }
func (f *fakeStore) Close() error         { f.closed.Store(true); return nil }

func (f *fakeStore) InTx(ctx context.Context, fn func(ctx context.Context, tx store.Repos) error) error {
	return fn(ctx, f)
}

// fakeJobs serves jobs from a map. Get counts its calls and, while gate is
// set, waits for it to close before reading the row, so a test can hold a
// load in flight. Reading under the gate reads the row as it is when the
// gate opens.
type fakeJobs struct {
	store.JobStore
	mu        sync.Mutex
	rows      map[string]store.Job
	gate      chan struct{}
	gets      atomic.Int64
	updateErr error
}

func (f *fakeJobs) put(j store.Job) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.rows[j.ID] = j
}

func (f *fakeJobs) setGate(g chan struct{}) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.gate = g
}

func (f *fakeJobs) Get(ctx context.Context, id string) (*store.Job, error) {
	f.gets.Add(1)
	f.mu.Lock()
	gate := f.gate
	f.mu.Unlock()
	if gate != nil {
		select {
		case <-gate:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	j, ok := f.rows[id]
	if !ok {
		return nil, store.ErrNotFound
	}
	j.Tags = append([]string(nil), j.Tags...)
	return &j, nil
}

func (f *fakeJobs) Update(ctx context.Context, j *store.Job) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.updateErr; err != nil {
		if _, ok := err.(*store.ValidationError); ok {
			return err
		}
		// An unknown outcome: the write went through, say.
		f.rows[j.ID] = *j
		return err
	}
	f.rows[j.ID] = *j
	return nil
}
