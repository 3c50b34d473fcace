package backupmgmt

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/custos-dev/custos/store"
	"github.com/custos-dev/custos/store/bunstore/bunstoretest"
)

// BenchmarkTickMissed measures one missed-run tick over a large fleet of
// which 100 jobs are due: each due job gets its missed execution, its
// state, its alert and its next deadline. Two
// fleet sizes show that the cost follows the due jobs, not the total. Run
// with:
//
//	go test -run '^$' -bench BenchmarkTickMissed -benchtime 20x ./backupmgmt/
//
// with CUSTOS_TEST_POSTGRES_DSN and CUSTOS_TEST_MYSQL_DSN set for the
// PostgreSQL and MariaDB figures (source /work/env.sh).
func BenchmarkTickMissed(b *testing.B) {
	const due = 100
	for _, kind := range bunstoretest.Dialects {
		b.Run(string(kind), func(b *testing.B) {
			for _, total := range []int{10_000, 100_000} {
				b.Run(fmt.Sprintf("jobs=%d/due=%d", total, due), func(b *testing.B) {
					// The fleet is built once; the sub-benchmarks share it.
					tb := setup(b, kind, nil)
					dueIDs := schedBenchSeed(b, tb, total, due)
					// new_alerts: every due job misses for the first time and
					// opens an alert; repeat_alerts: they missed before, and
					// their open alert counts one more occurrence.
					for _, repeat := range []bool{false, true} {
						name := "new_alerts"
						if repeat {
							name = "repeat_alerts"
						}
						b.Run(name, func(b *testing.B) {
							schedBenchTicks(b, tb, dueIDs, repeat)
						})
					}
				})
			}
		})
	}
}

// schedBenchTicks times ticks that each handle the due jobs once.
func schedBenchTicks(b *testing.B, tb *testBundle, dueIDs []string, keepAlerts bool) {
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		schedBenchReset(b, tb, dueIDs, keepAlerts)
		b.StartTimer()
		n, err := tb.svc.Scheduler().TickMissed(ctx)
		if err != nil {
			b.Fatal(err)
		}
		if n != len(dueIDs) {
			b.Fatalf("tick recorded %d misses, want %d", n, len(dueIDs))
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(dueIDs)), "ns/due_job")
}

// schedBenchDeadline is the deadline the due jobs have missed: 02:00 UTC on
// the day of testStart, plus an hour of grace.
var schedBenchDeadline = time.Date(2026, 11, 2, 3, 0, 0, 0, time.UTC)

// schedBenchJob mirrors the jobs table, so the fleet can go in with
// multi-row inserts instead of 100,000 round trips.
type schedBenchJob struct {
	bun.BaseModel `bun:"table:jobs"`

	ID                      string     `bun:"id,pk"`
	Name                    string     `bun:"name"`
	NameKey                 string     `bun:"name_key"`
	Description             string     `bun:"description"`
	AssetID                 *string    `bun:"asset_id"`
	JobType                 string     `bun:"job_type"`
	Tool                    string     `bun:"tool"`
	TargetServer            string     `bun:"target_server"`
	TargetPath              string     `bun:"target_path"`
	ScheduleKind            string     `bun:"schedule_kind"`
	ScheduleCron            string     `bun:"schedule_cron"`
	ScheduleIntervalSeconds int64      `bun:"schedule_interval_seconds"`
	ScheduleTimezone        string     `bun:"schedule_timezone"`
	GraceSeconds            int64      `bun:"grace_seconds"`
	MaxRuntimeSeconds       int64      `bun:"max_runtime_seconds"`
	RetentionDays           int        `bun:"retention_days"`
	RPOTargetSeconds        int64      `bun:"rpo_target_seconds"`
	RTOTargetSeconds        int64      `bun:"rto_target_seconds"`
	OwnerID                 *string    `bun:"owner_id"`
	Tags                    string     `bun:"tags"`
	Active                  bool       `bun:"active"`
	Paused                  bool       `bun:"paused"`
	PingToken               string     `bun:"ping_token"`
	State                   string     `bun:"state"`
	NextDueAt               *time.Time `bun:"next_due_at"`
	LastRunAt               *time.Time `bun:"last_run_at"`
	LastSuccessAt           *time.Time `bun:"last_success_at"`
	LastResult              string     `bun:"last_result"`
	ConsecutiveFailures     int        `bun:"consecutive_failures"`
	CreatedAt               time.Time  `bun:"created_at"`
	UpdatedAt               time.Time  `bun:"updated_at"`
}

// schedBenchSeed stores total nightly jobs, due of them past their
// deadline and the rest due over the coming day, and returns the due ones.
func schedBenchSeed(b *testing.B, tb *testBundle, total, due int) []string {
	b.Helper()
	ctx := context.Background()
	created := testStart.Add(-48 * time.Hour)
	const chunk = 1000
	var dueIDs []string
	rows := make([]schedBenchJob, 0, chunk)
	flush := func() {
		if len(rows) == 0 {
			return
		}
		if _, err := tb.store.DB().NewInsert().Model(&rows).Exec(ctx); err != nil {
			b.Fatal(err)
		}
		rows = rows[:0]
	}
	for i := range total {
		id := store.NewID()
		next := schedBenchDeadline.Add(24*time.Hour + time.Duration(i)*time.Second/2)
		if i%(total/due) == 0 && len(dueIDs) < due {
			next = schedBenchDeadline
			dueIDs = append(dueIDs, id)
		}
		name := fmt.Sprintf("bench-%06d", i)
		rows = append(rows, schedBenchJob{
			ID: id, Name: name, NameKey: name, JobType: string(store.JobTypeFile), Tool: string(store.ToolRestic),
			ScheduleKind: string(store.ScheduleCron), ScheduleCron: "0 2 * * *", GraceSeconds: 3600,
			Tags: "[]", Active: true, PingToken: fmt.Sprintf("bench-token-%06d", i), State: string(store.JobStateUp),
			NextDueAt: &next, LastResult: string(store.ExecutionSuccess), CreatedAt: created, UpdatedAt: created,
		})
		if len(rows) == chunk {
			flush()
		}
	}
	flush()
	if len(dueIDs) != due {
		b.Fatalf("seeded %d due jobs, want %d", len(dueIDs), due)
	}
	return dueIDs
}

// schedBenchReset puts the due jobs back before their missed deadline:
// deadline, state and counters as they were, and the misses the last tick
// wrote removed (and its alerts, unless keepAlerts), so every tick does the
// same work.
func schedBenchReset(b *testing.B, tb *testBundle, ids []string, keepAlerts bool) {
	b.Helper()
	ctx := context.Background()
	db := tb.store.DB()
	if _, err := db.NewDelete().TableExpr("executions").Where("job_id IN (?)", bun.List(ids)).Exec(ctx); err != nil {
		b.Fatal(err)
	}
	if !keepAlerts {
		if _, err := db.NewDelete().TableExpr("alerts").Where("job_id IN (?)", bun.List(ids)).Exec(ctx); err != nil {
			b.Fatal(err)
		}
	}
	_, err := db.NewUpdate().Table("jobs").
		Set("next_due_at = ?", schedBenchDeadline).
		Set("state = ?", string(store.JobStateUp)).
		Set("last_result = ?", string(store.ExecutionSuccess)).
		Set("consecutive_failures = 0").
		Where("id IN (?)", bun.List(ids)).Exec(ctx)
	if err != nil {
		b.Fatal(err)
	}
}
