package bunstore_test

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/custos-dev/custos/store"
	"github.com/custos-dev/custos/store/bunstore"
	"github.com/custos-dev/custos/store/bunstore/bunstoretest"
	"github.com/custos-dev/custos/store/bunstore/dbopen"
)

// Benchmarks of the execution table, the hot path of ingest. Run with:
//
//	go test -run '^$' -bench . -benchtime 3s ./store/bunstore/
//
// with CUSTOS_TEST_POSTGRES_DSN and CUSTOS_TEST_MYSQL_DSN set for the
// PostgreSQL and MariaDB figures. BenchmarkListNewest50 seeds 1,000,000
// rows per database (CUSTOS_BENCH_ROWS overrides), which takes minutes.

var benchSeq atomic.Int64

func benchJob(b *testing.B, s store.Store) *store.Job {
	b.Helper()
	j := &store.Job{
		Name: "bench " + store.NewID(), JobType: store.JobTypeFile, Tool: store.ToolRestic,
		Schedule: store.Schedule{Kind: store.ScheduleInterval, Interval: time.Hour},
		Active:   true, PingToken: "bench-" + store.NewID(), State: store.JobStateUp,
	}
	require.NoError(b, s.Jobs().Create(context.Background(), j))
	return j
}

func benchExecution(jobID string) *store.Execution {
	n := benchSeq.Add(1)
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(n) * time.Second)
	fin := start.Add(time.Minute)
	return &store.Execution{
		JobID: jobID, RunID: "b" + strconv.FormatInt(n, 10), Status: store.ExecutionSuccess,
		StartedAt: start, FinishedAt: &fin, SizeBytes: 1 << 30, Files: 1000, Message: "ok", Source: store.SourceAPI,
	}
}

// BenchmarkInsertExecution measures one durable single-row insert through
// the store (validation, idempotency, error mapping included).
func BenchmarkInsertExecution(b *testing.B) {
	for _, kind := range bunstoretest.Dialects {
		b.Run(string(kind), func(b *testing.B) {
			s := bunstoretest.New(b, kind, nil)
			j := benchJob(b, s)
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := s.Executions().Insert(ctx, benchExecution(j.ID)); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}

// BenchmarkInsertExecutionRawSQL is the floor: the same row through
// database/sql with placeholders, on the same write connection, no bun.
func BenchmarkInsertExecutionRawSQL(b *testing.B) {
	for _, kind := range bunstoretest.Dialects {
		b.Run(string(kind), func(b *testing.B) {
			s := bunstoretest.New(b, kind, nil)
			j := benchJob(b, s)
			ctx := context.Background()
			db := s.DB().DB
			q := "INSERT INTO executions (id, job_id, copy_id, run_id, status, started_at, finished_at, size_bytes, files, errors, message, source, snapshot_id, log_excerpt, api_key_id, created_at) VALUES (?, ?, NULL, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, ?)"
			if kind == dbopen.Postgres {
				q = "INSERT INTO executions (id, job_id, copy_id, run_id, status, started_at, finished_at, size_bytes, files, errors, message, source, snapshot_id, log_excerpt, api_key_id, created_at) VALUES ($1, $2, NULL, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, NULL, $14)"
			}
			b.ReportAllocs()
			for b.Loop() {
				e := benchExecution(j.ID)
				now := time.Now().UTC().Truncate(time.Microsecond)
				var start, fin any = e.StartedAt, *e.FinishedAt
				if kind == dbopen.SQLite {
					// The text form bun writes, so both loops store the same bytes.
					start = e.StartedAt.Format("2006-01-02 15:04:05.999999-07:00")
					fin = e.FinishedAt.Format("2006-01-02 15:04:05.999999-07:00")
				}
				if _, err := db.ExecContext(ctx, q, store.NewID(), e.JobID, e.RunID, string(e.Status), start, fin,
					e.SizeBytes, e.Files, e.Errors, e.Message, string(e.Source), e.SnapshotID, e.LogExcerpt, now); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}

// BenchmarkInsertExecutionBatch1000 measures InsertBatch of 1,000 rows
// (one transaction, idempotency check included).
func BenchmarkInsertExecutionBatch1000(b *testing.B) {
	for _, kind := range bunstoretest.Dialects {
		b.Run(string(kind), func(b *testing.B) {
			s := bunstoretest.New(b, kind, nil)
			j := benchJob(b, s)
			ctx := context.Background()
			batch := make([]*store.Execution, 1000)
			b.ReportAllocs()
			for b.Loop() {
				for i := range batch {
					batch[i] = benchExecution(j.ID)
				}
				if _, err := s.Executions().InsertBatch(ctx, batch); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N*len(batch))/b.Elapsed().Seconds(), "rows/s")
		})
	}
}

// BenchmarkListNewest50 lists the newest 50 executions of one job among
// 1,000,000 rows (1,000 jobs × 1,000 runs).
func BenchmarkListNewest50(b *testing.B) {
	rows := 1_000_000
	if v := os.Getenv("CUSTOS_BENCH_ROWS"); v != "" {
		n, err := strconv.Atoi(v)
		require.NoError(b, err)
		rows = n
	}
	for _, kind := range bunstoretest.Dialects {
		b.Run(fmt.Sprintf("%s/rows=%d", kind, rows), func(b *testing.B) {
			s := bunstoretest.New(b, kind, nil)
			jobs := seedExecutions(b, s, 1000, rows)
			analyze(b, s, kind)
			ctx := context.Background()
			p := store.ListExecutionsParams{JobID: jobs[500].ID, PageParams: store.PageParams{Limit: 50}}
			b.ReportAllocs()
			for b.Loop() {
				page, err := s.Executions().List(ctx, p)
				if err != nil || len(page.Items) != 50 {
					b.Fatal(err, len(page.Items))
				}
			}
		})
	}
}

func analyze(tb testing.TB, s *bunstore.Store, kind dbopen.Kind) {
	tb.Helper()
	stmt := map[dbopen.Kind]string{dbopen.SQLite: "ANALYZE", dbopen.Postgres: "ANALYZE executions", dbopen.MySQL: "ANALYZE TABLE executions"}[kind]
	_, err := s.DB().ExecContext(context.Background(), stmt)
	require.NoError(tb, err)
}
