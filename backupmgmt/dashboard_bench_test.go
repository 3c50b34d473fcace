package backupmgmt

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/custos-dev/custos/store"
	"github.com/custos-dev/custos/store/bunstore/bunstoretest"
)

// BenchmarkDashboardSummary reads the dashboard summary, uncached, with
// 10,000 jobs, their compliance states and 1,000,000 executions: a run a
// day per job for 100 days, so the last 24 h hold one run per job, as a
// real fleet's do (issue 5: < 10 ms).
func BenchmarkDashboardSummary(b *testing.B) {
	for _, kind := range bunstoretest.Dialects {
		b.Run(string(kind), func(b *testing.B) {
			const jobs, days = 10_000, 100
			tb := setup(b, kind, nil)
			ctx := context.Background()
			schedBenchSeed(b, tb, jobs, 100)
			ids := make([]string, 0, jobs)
			p := store.ListJobsParams{}
			p.Limit = store.LimitMax
			for {
				page, err := tb.store.Jobs().List(ctx, p)
				if err != nil {
					b.Fatal(err)
				}
				for _, j := range page.Items {
					ids = append(ids, j.ID)
				}
				if page.NextCursor == "" {
					break
				}
				p.Cursor = page.NextCursor
			}
			batch := make([]*store.Execution, 0, 1000)
			flush := func() {
				if _, err := tb.store.Executions().InsertBatch(ctx, batch); err != nil {
					b.Fatal(err)
				}
				batch = batch[:0]
			}
			statuses := []store.ExecutionStatus{store.ExecutionSuccess, store.ExecutionSuccess, store.ExecutionSuccess, store.ExecutionWarning, store.ExecutionFailed}
			now := tb.svc.Now()
			for d := range days {
				for i, id := range ids {
					started := now.Add(-time.Duration(d)*24*time.Hour - time.Duration(i)*time.Second)
					finished := started.Add(10 * time.Minute)
					batch = append(batch, &store.Execution{
						ID: store.NewID(), JobID: id, RunID: fmt.Sprintf("d%03d", d), Status: statuses[(d+i)%len(statuses)],
						StartedAt: started, FinishedAt: &finished, SizeBytes: 1 << 30, Files: 100,
						Source: store.SourceAPI, CreatedAt: finished,
					})
					if len(batch) == cap(batch) {
						flush()
					}
				}
			}
			flush()
			if _, err := tb.svc.Compliance().SweepAll(ctx); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				sum, err := tb.svc.Dashboard().Summary(ctx)
				if err != nil {
					b.Fatal(err)
				}
				if sum.JobsTotal != jobs {
					b.Fatalf("summary counts %d jobs, want %d", sum.JobsTotal, jobs)
				}
			}
		})
	}
}
