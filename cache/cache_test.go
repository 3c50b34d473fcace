package cache_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/custos-dev/custos/cache"
	"github.com/custos-dev/custos/store"
)

type fakeBundle struct {
	ctx  context.Context
	fake *fakeStore
	c    cache.Store
}

// setupFake returns a cache over a fake store holding the job "j1". Call it
// inside the synctest bubble of the test, so that the cache's goroutine and
// clock are the bubble's.
func setupFake(t *testing.T, opts ...cache.Option) *fakeBundle {
	t.Helper()
	f := newFakeStore()
	f.jobs.put(store.Job{ID: "j1", Name: "one", Tags: []string{"prod"}})
	c := cache.New(f, opts...)
	t.Cleanup(func() { require.NoError(t, c.Close()) })
	return &fakeBundle{ctx: context.Background(), fake: f, c: c}
}

func stat(t *testing.T, c cache.Store, name string) cache.Stat {
	t.Helper()
	for _, s := range c.Stats() {
		if s.Name == name {
			return s
		}
	}
	t.Fatalf("no cache %q in Stats", name)
	return cache.Stat{}
}

func TestCollapsesConcurrentMisses(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		b := setupFake(t)
		gate := make(chan struct{})
		b.fake.jobs.setGate(gate)
		const n = 20
		var wg sync.WaitGroup
		got := make([]*store.Job, n)
		for i := range n {
			wg.Go(func() {
				j, err := b.c.Jobs().Get(b.ctx, "j1")
				require.NoError(t, err)
				got[i] = j
			})
		}
		synctest.Wait() // every reader is waiting: one in Get, the others on it
		close(gate)
		wg.Wait()
		require.EqualValues(t, 1, b.fake.jobs.gets.Load())
		for _, j := range got {
			require.Equal(t, "one", j.Name)
		}
		// Each got its own copy.
		got[0].Tags[0] = "changed"
		require.Equal(t, "prod", got[1].Tags[0])
	})
}

func TestReadAfterWriteDoesNotShareAnEarlierLoad(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		b := setupFake(t)
		gate := make(chan struct{})
		b.fake.jobs.setGate(gate)
		var before *store.Job
		done := make(chan struct{})
		go func() {
			defer close(done)
			var err error
			before, err = b.c.Jobs().Get(b.ctx, "j1")
			require.NoError(t, err)
		}()
		synctest.Wait() // the first load is in flight
		require.NoError(t, b.c.Jobs().Update(b.ctx, &store.Job{ID: "j1", Name: "two"}))
		b.fake.jobs.setGate(nil)
		after, err := b.c.Jobs().Get(b.ctx, "j1")
		require.NoError(t, err)
		require.Equal(t, "two", after.Name, "a read begun after a write must see it")
		require.EqualValues(t, 2, b.fake.jobs.gets.Load())
		close(gate)
		<-done
		require.NotNil(t, before)
		// The load that began before the write left nothing stale behind.
		again, err := b.c.Jobs().Get(b.ctx, "j1")
		require.NoError(t, err)
		require.Equal(t, "two", again.Name)
	})
}

func TestEntriesExpireAfterTheirTTL(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		b := setupFake(t, cache.WithJobTTL(time.Minute))
		get := func() {
			t.Helper()
			_, err := b.c.Jobs().Get(b.ctx, "j1")
			require.NoError(t, err)
		}
		get()
		time.Sleep(59 * time.Second)
		get()
		require.EqualValues(t, 1, b.fake.jobs.gets.Load(), "hit before the TTL")
		time.Sleep(2 * time.Second)
		get()
		require.EqualValues(t, 2, b.fake.jobs.gets.Load(), "miss after the TTL, however often it was read")
	})
}

func TestDefaultTTLs(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		b := setupFake(t)
		_, err := b.c.Jobs().Get(b.ctx, "j1")
		require.NoError(t, err)
		time.Sleep(cache.JobTTLDefault - time.Second)
		_, err = b.c.Jobs().Get(b.ctx, "j1")
		require.NoError(t, err)
		require.EqualValues(t, 1, b.fake.jobs.gets.Load())
		time.Sleep(2 * time.Second)
		_, err = b.c.Jobs().Get(b.ctx, "j1")
		require.NoError(t, err)
		require.EqualValues(t, 2, b.fake.jobs.gets.Load())
	})
}

func TestCapacityBoundsEveryCache(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		b := setupFake(t, cache.WithCapacity(3))
		ids := []string{"a", "b", "c", "d", "e", "f"}
		for _, id := range ids {
			b.fake.jobs.put(store.Job{ID: id, Name: id})
			_, err := b.c.Jobs().Get(b.ctx, id)
			require.NoError(t, err)
		}
		require.Equal(t, 3, stat(t, b.c, "jobs").Entries)
		gets := b.fake.jobs.gets.Load()
		_, err := b.c.Jobs().Get(b.ctx, "f") // most recent: kept
		require.NoError(t, err)
		require.Equal(t, gets, b.fake.jobs.gets.Load())
		_, err = b.c.Jobs().Get(b.ctx, "a") // oldest: evicted; now d goes
		require.NoError(t, err)
		require.Equal(t, gets+1, b.fake.jobs.gets.Load())
		require.Equal(t, 3, stat(t, b.c, "jobs").Entries)
		_, err = b.c.Jobs().Get(b.ctx, "e") // read, so f is the least recently used
		require.NoError(t, err)
		_, err = b.c.Jobs().Get(b.ctx, "b")
		require.NoError(t, err)
		gets = b.fake.jobs.gets.Load()
		for _, id := range []string{"e", "a", "b"} {
			_, err = b.c.Jobs().Get(b.ctx, id)
			require.NoError(t, err)
		}
		require.Equal(t, gets, b.fake.jobs.gets.Load(), "the recently used stay")
		_, err = b.c.Jobs().Get(b.ctx, "f")
		require.NoError(t, err)
		require.Equal(t, gets+1, b.fake.jobs.gets.Load(), "the least recently used went")
	})
}

func TestStatsCountHitsAndMisses(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		b := setupFake(t)
		b.fake.jobs.put(store.Job{ID: "j2", Name: "two"})
		for _, id := range []string{"j1", "j1", "j2", "j1", "j2"} {
			_, err := b.c.Jobs().Get(b.ctx, id)
			require.NoError(t, err)
		}
		_, err := b.c.Jobs().Get(b.ctx, "missing")
		require.ErrorIs(t, err, store.ErrNotFound)
		require.Equal(t, cache.Stat{Name: "jobs", Hits: 3, Misses: 3, Entries: 2}, stat(t, b.c, "jobs"))

		var names []string
		for _, s := range b.c.Stats() {
			names = append(names, s.Name)
			if s.Name != "jobs" {
				require.Zero(t, s.Hits+s.Misses, s.Name)
			}
		}
		require.Equal(t, cache.Names(), names)
		require.Equal(t, []string{"jobs", "copies", "assets", "executions", "verification",
			"media", "compliance", "reports", "rollups", "dashboard"}, names, "names are part of the metrics")
	})
}

func TestErrorsAreNotCached(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		b := setupFake(t)
		_, err := b.c.Jobs().Get(b.ctx, "later")
		require.ErrorIs(t, err, store.ErrNotFound)
		b.fake.jobs.put(store.Job{ID: "later", Name: "later"})
		j, err := b.c.Jobs().Get(b.ctx, "later")
		require.NoError(t, err)
		require.Equal(t, "later", j.Name)
	})
}

func TestFailedWrites(t *testing.T) {
	t.Parallel()
	read := func(t *testing.T, b *fakeBundle) string {
		t.Helper()
		j, err := b.c.Jobs().Get(b.ctx, "j1")
		require.NoError(t, err)
		return j.Name
	}
	t.Run("AnUnknownOutcomeDropsTheEntry", func(t *testing.T) {
		t.Parallel()
		synctest.Test(t, func(t *testing.T) {
			b := setupFake(t)
			require.Equal(t, "one", read(t, b))
			b.fake.jobs.updateErr = errors.New("connection reset")
			require.Error(t, b.c.Jobs().Update(b.ctx, &store.Job{ID: "j1", Name: "maybe"}))
			require.Equal(t, "maybe", read(t, b))
		})
	})
	t.Run("ARefusedWriteKeepsTheEntry", func(t *testing.T) {
		t.Parallel()
		synctest.Test(t, func(t *testing.T) {
			b := setupFake(t)
			require.Equal(t, "one", read(t, b))
			b.fake.jobs.updateErr = &store.ValidationError{Fields: map[string]string{"name": "required"}}
			require.Error(t, b.c.Jobs().Update(b.ctx, &store.Job{ID: "j1"}))
			require.Equal(t, "one", read(t, b))
			require.EqualValues(t, 1, b.fake.jobs.gets.Load())
		})
	})
}

func TestInTxDropsEverythingAfterACommit(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		b := setupFake(t)
		_, err := b.c.Jobs().Get(b.ctx, "j1")
		require.NoError(t, err)
		require.NoError(t, b.c.InTx(b.ctx, func(ctx context.Context, tx store.Repos) error {
			require.Same(t, b.fake, tx, "fn gets the wrapped store's Repos")
			return tx.Jobs().Update(ctx, &store.Job{ID: "j1", Name: "in tx"})
		}))
		j, err := b.c.Jobs().Get(b.ctx, "j1")
		require.NoError(t, err)
		require.Equal(t, "in tx", j.Name)

		// A rolled back transaction keeps the entries.
		boom := errors.New("boom")
		require.ErrorIs(t, b.c.InTx(b.ctx, func(ctx context.Context, tx store.Repos) error { return boom }), boom)
		gets := b.fake.jobs.gets.Load()
		_, err = b.c.Jobs().Get(b.ctx, "j1")
		require.NoError(t, err)
		require.Equal(t, gets, b.fake.jobs.gets.Load())
	})
}

func TestCloseStopsTheCacheAndClosesTheStore(t *testing.T) {
	t.Parallel()
	// synctest.Test fails if a goroutine of the bubble outlives it; TestMain
	// checks the whole package with goleak.
	synctest.Test(t, func(t *testing.T) {
		f := newFakeStore()
		c := cache.New(f)
		time.Sleep(time.Hour) // let the janitor run
		require.NoError(t, c.Close())
		require.True(t, f.closed.Load())
		require.NoError(t, c.Close(), "a second Close closes the store again, and does not hang")
	})
}
