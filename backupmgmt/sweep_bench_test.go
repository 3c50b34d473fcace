package backupmgmt

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/uptrace/bun/dialect"

	"github.com/custos-dev/custos/store"
	"github.com/custos-dev/custos/store/bunstore/bunstoretest"
)

// sweepBenchJobs is how many jobs the sweep benchmark evaluates (the
// figure of issue 3: 10,000 jobs, target < 200 ms on SQLite).
const sweepBenchJobs = 10_000

// sweepBenchFixtures stores n jobs in one transaction: every tenth shares an
// asset; each has a disk copy and an immutable offsite cloud copy; 8 in 10
// have two restore tests, 1 in 10 a verification schedule, and 1 in 10 a
// stale copy. Most jobs are compliant, the others warn or violate, so a
// first sweep writes states, history and alerts of every kind.
func sweepBenchFixtures(b *testing.B, tb *testBundle, n int) {
	b.Helper()
	ctx := context.Background()
	now := tb.svc.Now()
	err := tb.store.InTx(ctx, func(ctx context.Context, tx store.Repos) error {
		var asset *store.Asset
		for i := range n {
			if i%10 == 0 {
				asset = &store.Asset{Name: fmt.Sprintf("asset-%05d", i/10), Classification: store.ClassificationConfidential}
				if err := tx.Assets().Create(ctx, asset); err != nil {
					return err
				}
			}
			j := &store.Job{
				Name: fmt.Sprintf("job-%05d", i), JobType: store.JobTypeDatabase, Tool: store.ToolRestic,
				Schedule: store.Schedule{Kind: store.ScheduleCron, Cron: "0 2 * * *"}, Grace: time.Hour,
				RPOTarget: 26 * time.Hour, RetentionDays: 5 * 365,
				Active: true, PingToken: fmt.Sprintf("tok-%05d", i), State: store.JobStateUp,
				CreatedAt: now,
			}
			if i%10 < 5 {
				j.AssetID = &asset.ID
			}
			if err := tx.Jobs().Create(ctx, j); err != nil {
				return err
			}
			written := now.Add(-2 * time.Hour)
			stale := written
			if i%10 == 9 {
				stale = now.Add(-3 * 24 * time.Hour)
			}
			tb.sweepCopy(b, tx, j.ID, "disk", store.MediaDisk, written, nil)
			tb.sweepCopy(b, tx, j.ID, "cloud", store.MediaCloudObject, stale, func(c *store.Copy) {
				c.Role, c.Offsite, c.Immutable = store.CopyRoleOffsite, true, true
			})
			if i%10 < 8 {
				tb.sweepTestAt(b, tx, j.ID, now.Add(-40*24*time.Hour))
				tb.sweepTestAt(b, tx, j.ID, now.Add(-24*time.Hour))
			}
			if i%10 == 3 {
				err := tx.VerificationSchedules().Create(ctx, &store.VerificationSchedule{
					JobID: j.ID, Frequency: store.FrequencyQuarterly, TestType: store.TestFullRestore,
					NextDueOn: tb.svc.Today().AddDays(80), Active: true,
				})
				if err != nil {
					return err
				}
			}
		}
		return nil
	})
	require.NoError(b, err)
}

// sweepBenchAnalyze updates the planner statistics of the tables a sweep
// reads, as autovacuum (PostgreSQL), InnoDB's persistent statistics or
// PRAGMA optimize (SQLite) do on a database in use.
func sweepBenchAnalyze(b *testing.B, tb *testBundle) {
	b.Helper()
	ctx := context.Background()
	stmt := "ANALYZE"
	if tb.store.DB().Dialect().Name() == dialect.MySQL {
		stmt = "ANALYZE TABLE jobs, copies, verification_tests, verification_schedules, compliance_states, assets"
	}
	rows, err := tb.store.DB().QueryContext(ctx, stmt)
	if err == nil {
		err = rows.Close()
	}
	require.NoError(b, err)
}

// BenchmarkComplianceSweep sweeps 10,000 jobs (and their 1,000 assets):
// FirstSweep when every state is new (SweepAll: states, history and alerts
// written), NothingChanged when the stored states are current and none is
// due (the periodic Sweep), NothingChangedAll the same through SweepAll
// (every input read). Each reports the SQL statements per sweep, which grow
// by pages of 1,000 jobs, not by jobs.
//
//	go test -run '^$' -bench BenchmarkComplianceSweep -benchtime 5x ./backupmgmt
func BenchmarkComplianceSweep(b *testing.B) {
	for _, kind := range bunstoretest.Dialects {
		b.Run(string(kind), func(b *testing.B) {
			tb := setup(b, kind, nil)
			start := time.Now()
			sweepBenchFixtures(b, tb, sweepBenchJobs)
			b.Logf("%s: %d jobs stored in %v", kind, sweepBenchJobs, time.Since(start).Round(time.Millisecond))
			svc, qc := tb.sweepCounted(b, nil)
			ctx := context.Background()
			// A database in use has statistics; right after a bulk load only
			// an analysis gives the planners the table sizes.
			_, err := svc.Compliance().Sweep(ctx)
			require.NoError(b, err)
			sweepBenchAnalyze(b, tb)

			b.Run("FirstSweep", func(b *testing.B) {
				var queries int64
				for b.Loop() {
					b.StopTimer()
					for _, table := range []string{"notifications", "alerts", "compliance_changes", "compliance_states"} {
						_, err := tb.store.DB().ExecContext(ctx, "DELETE FROM "+table)
						require.NoError(b, err)
					}
					qc.Reset()
					b.StartTimer()
					res, err := svc.Compliance().SweepAll(ctx)
					require.NoError(b, err)
					require.Equal(b, sweepBenchJobs, res.Jobs)
					require.Equal(b, sweepBenchJobs+sweepBenchJobs/10, res.Changed)
					queries += qc.Count()
				}
				b.ReportMetric(float64(queries)/float64(b.N), "queries/op")
			})

			for _, all := range []bool{false, true} {
				name, sweep := "NothingChanged", svc.Compliance().Sweep
				if all {
					name, sweep = "NothingChangedAll", svc.Compliance().SweepAll
				}
				b.Run(name, func(b *testing.B) {
					_, err := svc.Compliance().SweepAll(ctx)
					require.NoError(b, err)
					qc.Reset()
					for b.Loop() {
						res, err := sweep(ctx)
						require.NoError(b, err)
						require.Zero(b, res.Changed)
					}
					b.ReportMetric(float64(qc.Count())/float64(b.N), "queries/op")
				})
			}
		})
	}
}
