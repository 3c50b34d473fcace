package cache

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/custos-dev/custos/store"
	"github.com/custos-dev/custos/store/bunstore/bunstoretest"
	"github.com/custos-dev/custos/store/bunstore/dbopen"
)

// benchStore is a cache over a SQLite store holding 60 jobs.
func benchStore(b *testing.B) (*cached, store.Store) {
	b.Helper()
	ctx := context.Background()
	bs := bunstoretest.New(b, dbopen.SQLite, nil)
	for i := range 60 {
		j := &store.Job{
			Name: fmt.Sprintf("bench-%03d", i), JobType: store.JobTypeDatabase, Tool: store.ToolRestic,
			Schedule: store.Schedule{Kind: store.ScheduleInterval, Interval: time.Hour},
			Tags:     []string{"prod", "db"}, Active: true, PingToken: fmt.Sprintf("benchtoken%03d", i), State: store.JobStateUp,
		}
		if err := bs.Jobs().Create(ctx, j); err != nil {
			b.Fatal(err)
		}
	}
	s := New(bs)
	b.Cleanup(func() { _ = s.Close() })
	var c *cached
	switch v := s.(type) {
	case *cached:
		c = v
	default:
		c = reflectCore(s)
	}
	return c, s
}

// reflectCore digs the *cached out of the capability wrapper New returned.
func reflectCore(s Store) *cached {
	type core interface{ core() *cached }
	return s.(core).core()
}

var benchDash = store.DashboardCountsParams{
	Since: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC),
	Today: store.Date{Year: 2026, Month: 12, Day: 1}, DueSoonBy: store.Date{Year: 2026, Month: 12, Day: 8},
}

func benchReads(b *testing.B, s store.Store, miss func()) {
	ctx := context.Background()
	b.Run("JobsList50", func(b *testing.B) {
		p := store.ListJobsParams{PageParams: store.PageParams{Limit: 50}}
		b.ReportAllocs()
		for b.Loop() {
			miss()
			page, err := s.Jobs().List(ctx, p)
			if err != nil || len(page.Items) != 50 {
				b.Fatal(err)
			}
		}
	})
	b.Run("DashboardCounts", func(b *testing.B) {
		d := s.(store.DashboardCounter)
		b.ReportAllocs()
		for b.Loop() {
			miss()
			if _, err := d.DashboardCounts(ctx, benchDash); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkHit reads what is cached: a page of 50 jobs, and the dashboard
// counts.
func BenchmarkHit(b *testing.B) {
	_, s := benchStore(b)
	benchReads(b, s, func() {})
}

// BenchmarkMiss reads the same after a write has dropped the entries, so
// every read loads from SQLite; Direct is the same reads without the cache.
func BenchmarkMiss(b *testing.B) {
	c, s := benchStore(b)
	b.Run("Cached", func(b *testing.B) { benchReads(b, s, func() { c.bump(everything) }) })
	b.Run("Direct", func(b *testing.B) { benchReads(b, c.under, func() {}) })
}
