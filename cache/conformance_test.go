package cache_test

import (
	"testing"

	"github.com/custos-dev/custos/cache"
	"github.com/custos-dev/custos/store"
	"github.com/custos-dev/custos/store/bunstore/bunstoretest"
	"github.com/custos-dev/custos/store/bunstore/dbopen"
	"github.com/custos-dev/custos/store/storetest"
)

// newCached returns a cache over a fresh bun store of kind, closed when the
// test ends (which closes the bun store too).
func newCached(t *testing.T, kind dbopen.Kind, opts ...cache.Option) cache.Store {
	t.Helper()
	c := cache.New(bunstoretest.New(t, kind, nil), opts...)
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func TestConformance(t *testing.T) {
	t.Parallel()
	for _, kind := range bunstoretest.Dialects {
		t.Run(string(kind), func(t *testing.T) {
			t.Parallel()
			bunstoretest.Require(t, kind)
			storetest.Run(t, func(t *testing.T) store.Store { return newCached(t, kind) })
		})
	}
}
