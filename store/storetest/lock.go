package storetest

import (
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/custos-dev/custos/store"
)

var _ = register("AdvisoryLock", testAdvisoryLock)

// testAdvisoryLock checks the optional store.AdvisoryLocker capability
// within one store: a held name is refused (the lock is not reentrant),
// names are independent, release frees it and may be called again, and
// of many concurrent takers exactly one wins. Two processes on one
// database are the adapter's own test. Stores without the capability
// skip it.
func testAdvisoryLock(t *testing.T, newStore NewStoreFunc) {
	t.Run("OneHolderPerName", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		l, ok := b.s.(store.AdvisoryLocker)
		if !ok {
			t.Skip("store has no TryAdvisoryLock")
		}
		name := "conformance-" + uniq()
		release, ok, err := l.TryAdvisoryLock(b.ctx, name)
		require.NoError(t, err)
		require.True(t, ok)
		_, ok, err = l.TryAdvisoryLock(b.ctx, name)
		require.NoError(t, err)
		require.False(t, ok, "a held lock is refused")
		other, ok, err := l.TryAdvisoryLock(b.ctx, name+"-other")
		require.NoError(t, err)
		require.True(t, ok, "another name is free")
		other()
		release()
		release()
		again, ok, err := l.TryAdvisoryLock(b.ctx, name)
		require.NoError(t, err)
		require.True(t, ok, "released, it is free")
		again()
	})

	t.Run("ConcurrentTakersOneWins", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		l, ok := b.s.(store.AdvisoryLocker)
		if !ok {
			t.Skip("store has no TryAdvisoryLock")
		}
		name := "conformance-" + uniq()
		var (
			mu       sync.Mutex
			errs     []error
			releases []func()
			wg       sync.WaitGroup
		)
		for range 8 {
			wg.Go(func() {
				release, ok, err := l.TryAdvisoryLock(b.ctx, name)
				mu.Lock()
				defer mu.Unlock()
				if err != nil {
					errs = append(errs, err)
				} else if ok {
					releases = append(releases, release)
				}
			})
		}
		wg.Wait()
		require.Empty(t, errs)
		require.Len(t, releases, 1, "exactly one taker wins")
		for _, r := range releases {
			r()
		}
	})
}
