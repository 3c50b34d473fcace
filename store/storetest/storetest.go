// Package storetest is the conformance suite for store.Store. Every storage
// adapter and every decorator must pass it:
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) store.Store { return newEmptyMigratedStore(t) })
//	}
//
// The suite covers every aggregate: create, get, update and delete; list
// filters; keyset pagination with rows inserted between pages; ErrNotFound;
// ErrConflict on every unique key; ErrForeignKey; transaction rollback;
// exact time round trips; Unicode; case rules of unique names; bounds on
// text; concurrent writers; and idempotent execution inserts.
package storetest

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/custos-dev/custos/store"
)

// NewStoreFunc returns a fresh, empty, migrated store. It registers its own
// cleanup with t.
type NewStoreFunc func(t *testing.T) store.Store

// Run runs the whole suite. Subtests run in parallel; each gets its own
// store from newStore.
func Run(t *testing.T, newStore NewStoreFunc) {
	t.Helper()
	for _, g := range groups {
		t.Run(g.name, func(t *testing.T) {
			t.Parallel()
			g.run(t, newStore)
		})
	}
}

type group struct {
	name string
	run  func(t *testing.T, newStore NewStoreFunc)
}

// groups lists the suite's parts; each file of the package adds its own.
var groups []group

func register(name string, run func(t *testing.T, newStore NewStoreFunc)) bool {
	groups = append(groups, group{name, run})
	return true
}

// bundle is what a test works with: a fresh store and a context.
type bundle struct {
	ctx context.Context
	s   store.Store
}

// setup gives a subtest its own store.
func setup(t *testing.T, newStore NewStoreFunc) *bundle {
	t.Helper()
	return &bundle{ctx: context.Background(), s: newStore(t)}
}

var seq atomic.Int64

// uniq returns a short string unique within the test binary.
func uniq() string {
	return time.Now().Format("150405") + "-" + itoa(seq.Add(1))
}

func itoa(n int64) string {
	const digits = "0123456789"
	if n == 0 {
		return "0"
	}
	var b [20]byte
	i := len(b)
	for n > 0 {
		i--
		b[i] = digits[n%10]
		n /= 10
	}
	return string(b[i:])
}

// tokyo is a zone far from UTC: times given in it must come back in UTC.
var tokyo = time.FixedZone("JST", 9*60*60)

// someTime returns a time in Tokyo with nanoseconds, to check that stores
// normalize to UTC microseconds.
func someTime() time.Time {
	return time.Date(2026, 3, 29, 1, 30, 15, 123456789, tokyo)
}

// norm is the stored form of t.
func norm(t time.Time) time.Time { return store.NormalizeTime(t) }

func ptr[T any](v T) *T { return &v }
