package backupmgmt

import (
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/custos-dev/custos/store"
	"github.com/custos-dev/custos/store/bunstore/bunstoretest"
	"github.com/custos-dev/custos/store/bunstore/dbopen"
)

// BenchmarkRecord records runs one after another (a single stream) with all
// their effects: the job's state and deadline, the named copy's write, the
// anomaly check against the last 10 successes, the alert lookups that can
// match, and the compliance re-evaluation the copy write triggers. Each
// database runs where it is configured; the figure is executions/s.
func BenchmarkRecord(b *testing.B) {
	for _, kind := range bunstoretest.Dialects {
		b.Run(string(kind), func(b *testing.B) {
			b.Run("SuccessWithCopy", func(b *testing.B) { ingestBenchRecord(b, kind, store.ExecutionSuccess, 0) })
			// Tools send their output: the anomaly window reads it back.
			b.Run("SuccessWithCopyAnd4KiBLog", func(b *testing.B) { ingestBenchRecord(b, kind, store.ExecutionSuccess, 4<<10) })
			b.Run("Failed", func(b *testing.B) { ingestBenchRecord(b, kind, store.ExecutionFailed, 0) })
		})
	}
}

func ingestBenchRecord(b *testing.B, kind dbopen.Kind, status store.ExecutionStatus, logLen int) {
	tb := setup(b, kind, nil)
	ctx := b.Context()
	job := tb.jobFixture(b, "bench", func(j *store.Job) {
		j.Schedule = store.Schedule{Kind: store.ScheduleInterval, Interval: time.Hour}
		j.RPOTarget = 2 * time.Hour
	})
	tb.channelFixture(b, "ops", store.SeverityWarning)
	var copyID string
	for i, mt := range []store.MediaType{store.MediaDisk, store.MediaCloudObject} {
		c := &store.Copy{JobID: job.ID, Name: "copy-" + strconv.Itoa(i), Role: store.CopyRolePrimary, MediaType: mt, Status: store.CopyStatusUnknown, Offsite: i == 1}
		require.NoError(b, tb.store.Copies().Create(ctx, c))
		if i == 0 {
			copyID = c.ID
		}
	}
	logText := strings.Repeat("processed file /srv/data/x\n", logLen/27+1)[:logLen]
	record := func(i int) {
		now := tb.clock.Advance(time.Minute)
		started, finished := now.Add(-50*time.Second), now.Add(-10*time.Second)
		p := RecordParams{
			JobID: job.ID, RunID: "run-" + strconv.Itoa(i), Status: status,
			StartedAt: started, FinishedAt: &finished, SizeBytes: 1 << 30, Files: 1000,
			Message: "backup done", CopyID: &copyID, Source: store.SourceRestic, LogExcerpt: logText,
		}
		res, err := tb.svc.Executions().Record(ctx, p)
		if err != nil || !res.Created {
			b.Fatalf("record %d: created %v, %v", i, res != nil && res.Created, err)
		}
	}
	// A history for the anomaly window, outside the measurement.
	for i := range AnomalyWindowDefault {
		record(-1 - i)
	}
	b.ReportAllocs()
	b.ResetTimer()
	start, cpu := time.Now(), ingestCPUTime(b)
	for i := 0; b.Loop(); i++ {
		record(i)
	}
	ingestReport(b, b.N, time.Since(start), ingestCPUTime(b)-cpu)
}

// ingestReport reports executions/s, and the process CPU time per
// execution with the rate it would allow: on a shared machine the wall
// clock counts other people's work too.
func ingestReport(b *testing.B, n int, wall, cpu time.Duration) {
	b.ReportMetric(float64(n)/wall.Seconds(), "executions/s")
	b.ReportMetric(float64(cpu.Microseconds())/float64(n), "cpu-µs/execution")
	b.ReportMetric(float64(n)/cpu.Seconds(), "executions/cpu-s")
}

// ingestCPUTime is the CPU time the process has used, user and system.
func ingestCPUTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkRecordBatch records batches of 100 successes naming a copy, with
// the same effects as BenchmarkRecord, one transaction per batch.
func BenchmarkRecordBatch(b *testing.B) {
	const size = 100
	for _, kind := range bunstoretest.Dialects {
		b.Run(string(kind), func(b *testing.B) {
			tb := setup(b, kind, nil)
			ctx := b.Context()
			job := tb.jobFixture(b, "bench", func(j *store.Job) {
				j.Schedule = store.Schedule{Kind: store.ScheduleInterval, Interval: time.Hour}
			})
			c := &store.Copy{JobID: job.ID, Name: "disk", Role: store.CopyRolePrimary, MediaType: store.MediaDisk, Status: store.CopyStatusUnknown}
			require.NoError(b, tb.store.Copies().Create(ctx, c))
			items := make([]RecordParams, size)
			n := 0
			b.ReportAllocs()
			start, cpu := time.Now(), ingestCPUTime(b)
			for b.Loop() {
				now := tb.clock.Advance(time.Hour)
				for i := range items {
					started := now.Add(-time.Hour + time.Duration(i)*time.Second)
					finished := started.Add(time.Second / 2)
					items[i] = RecordParams{JobID: job.ID, RunID: "run-" + strconv.Itoa(n), Status: store.ExecutionSuccess,
						StartedAt: started, FinishedAt: &finished, SizeBytes: 1 << 30, CopyID: &c.ID}
					n++
				}
				res, err := tb.svc.Executions().RecordBatch(ctx, items)
				require.NoError(b, err)
				for _, r := range res {
					if r.Err != nil || !r.Created {
						b.Fatalf("item: created %v, %v", r.Created, r.Err)
					}
				}
			}
			ingestReport(b, n, time.Since(start), ingestCPUTime(b)-cpu)
		})
	}
}

// BenchmarkRecordConcurrent records single runs from 64 goroutines over 100
// jobs, as the HTTP load test does, so that group commit gathers them: the
// figure is the committer's cost per run without HTTP.
func BenchmarkRecordConcurrent(b *testing.B) {
	for _, kind := range bunstoretest.Dialects {
		b.Run(string(kind), func(b *testing.B) {
			tb := setup(b, kind, nil)
			ctx := b.Context()
			jobs := make([]*store.Job, 100)
			for i := range jobs {
				jobs[i] = tb.jobFixture(b, "bench-"+strconv.Itoa(i), func(j *store.Job) {
					j.Schedule = store.Schedule{Kind: store.ScheduleInterval, Interval: time.Hour}
				})
			}
			var next atomic.Int64
			now := tb.clock.Now()
			b.ReportAllocs()
			b.SetParallelism(32) // 64 goroutines on 2 cores
			start, cpu := time.Now(), ingestCPUTime(b)
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					i := int(next.Add(1))
					started := now.Add(-time.Hour + time.Duration(i)*time.Millisecond)
					finished := started.Add(time.Minute)
					_, err := tb.svc.Executions().Record(ctx, RecordParams{
						JobID: jobs[i%len(jobs)].ID, RunID: "run-" + strconv.Itoa(i), Status: store.ExecutionSuccess,
						StartedAt: started, FinishedAt: &finished, SizeBytes: 1 << 30, Files: 1200, Message: "ok", Source: store.SourceAPI,
					})
					if err != nil {
						b.Error(err)
						return
					}
				}
			})
			ingestReport(b, b.N, time.Since(start), ingestCPUTime(b)-cpu)
		})
	}
}
