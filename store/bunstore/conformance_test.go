package bunstore_test

import (
	"testing"

	"github.com/custos-dev/custos/store"
	"github.com/custos-dev/custos/store/bunstore/bunstoretest"
	"github.com/custos-dev/custos/store/storetest"
)

func TestConformance(t *testing.T) {
	t.Parallel()
	for _, kind := range bunstoretest.Dialects {
		t.Run(string(kind), func(t *testing.T) {
			t.Parallel()
			bunstoretest.Require(t, kind)
			storetest.Run(t, func(t *testing.T) store.Store {
				return bunstoretest.New(t, kind, nil)
			})
		})
	}
}
