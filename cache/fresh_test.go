package cache_test

import (
	"context"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/custos-dev/custos/cache"
	"github.com/custos-dev/custos/store"
	"github.com/custos-dev/custos/store/bunstore"
	"github.com/custos-dev/custos/store/bunstore/bunstoretest"
	"github.com/custos-dev/custos/store/bunstore/dbopen"
)

type dbBundle struct {
	ctx context.Context
	bs  *bunstore.Store
	c   cache.Store
}

func setupDB(t *testing.T, kind dbopen.Kind) *dbBundle {
	t.Helper()
	bs := bunstoretest.New(t, kind, nil)
	c := cache.New(bs)
	t.Cleanup(func() { _ = c.Close() })
	return &dbBundle{ctx: context.Background(), bs: bs, c: c}
}

var seq atomic.Int64

var dashParams = store.DashboardCountsParams{Today: store.Date{Year: 2026, Month: 12, Day: 1}}

func newJob(t *testing.T, s store.Store) *store.Job {
	t.Helper()
	n := strings.ReplaceAll(time.Now().Format("150405.000000"), ".", "") + "x" + strconv.FormatInt(seq.Add(1), 10)
	j := &store.Job{
		Name:      "job-" + n,
		JobType:   store.JobTypeDatabase,
		Tool:      store.ToolRestic,
		Schedule:  store.Schedule{Kind: store.ScheduleInterval, Interval: time.Hour},
		Tags:      []string{"prod", "db"},
		Active:    true,
		PingToken: "tok" + n,
		State:     store.JobStateNew,
	}
	require.NoError(t, s.Jobs().Create(context.Background(), j))
	return j
}

// forEachDialect runs fn on every configured database.
func forEachDialect(t *testing.T, fn func(t *testing.T, b *dbBundle)) {
	t.Helper()
	for _, kind := range bunstoretest.Dialects {
		t.Run(string(kind), func(t *testing.T) {
			t.Parallel()
			bunstoretest.Require(t, kind)
			fn(t, setupDB(t, kind))
		})
	}
}

func TestServesFromTheCache(t *testing.T) {
	t.Parallel()
	forEachDialect(t, func(t *testing.T, b *dbBundle) {
		j := newJob(t, b.c)
		got, err := b.c.Jobs().Get(b.ctx, j.ID)
		require.NoError(t, err)
		// A write the cache does not see (another replica, say) shows only
		// after the TTL: the read is a hit.
		j.Description = "changed elsewhere"
		require.NoError(t, b.bs.Jobs().Update(b.ctx, j))
		again, err := b.c.Jobs().Get(b.ctx, j.ID)
		require.NoError(t, err)
		require.Equal(t, got, again)
		require.Empty(t, again.Description)
	})
}

func TestWritesAreSeenAtOnce(t *testing.T) {
	t.Parallel()
	forEachDialect(t, func(t *testing.T, b *dbBundle) {
		ctx, c := b.ctx, b.c
		j := newJob(t, c)
		listJobs := func() []store.Job {
			t.Helper()
			p, err := c.Jobs().List(ctx, store.ListJobsParams{})
			require.NoError(t, err)
			return p.Items
		}
		dashboard := func() *store.DashboardCounts {
			t.Helper()
			d, err := c.(store.DashboardCounter).DashboardCounts(ctx, dashParams)
			require.NoError(t, err)
			return d
		}
		require.Len(t, listJobs(), 1)
		require.Equal(t, map[store.JobState]int{store.JobStateNew: 1}, dashboard().Jobs)
		counts, err := c.Jobs().CountByState(ctx)
		require.NoError(t, err)
		require.Equal(t, 1, counts[store.JobStateNew])

		// A plain update.
		j.Description = "updated"
		require.NoError(t, c.Jobs().Update(ctx, j))
		got, err := c.Jobs().Get(ctx, j.ID)
		require.NoError(t, err)
		require.Equal(t, "updated", got.Description)
		require.Equal(t, "updated", listJobs()[0].Description)

		// A write inside a transaction, through the transaction's Repos.
		require.NoError(t, c.InTx(ctx, func(ctx context.Context, tx store.Repos) error {
			j, err := tx.Jobs().Get(ctx, j.ID)
			if err != nil {
				return err
			}
			j.Name += "-renamed"
			return tx.Jobs().Update(ctx, j)
		}))
		got, err = c.Jobs().GetByName(ctx, j.Name+"-renamed")
		require.NoError(t, err)
		require.Equal(t, j.ID, got.ID)
		require.Equal(t, j.Name+"-renamed", listJobs()[0].Name)

		// A write through a capability of the job store.
		due := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
		require.NoError(t, c.Jobs().(store.JobDueUpdater).UpdateDue(ctx, []store.JobDueUpdate{
			{ID: j.ID, State: store.JobStateMissed, NextDueAt: &due, LastResult: store.ExecutionMissed, ConsecutiveFailures: 1},
		}))
		got, err = c.Jobs().Get(ctx, j.ID)
		require.NoError(t, err)
		require.Equal(t, store.JobStateMissed, got.State)
		require.Equal(t, map[store.JobState]int{store.JobStateMissed: 1}, dashboard().Jobs)
		counts, err = c.Jobs().CountByState(ctx)
		require.NoError(t, err)
		require.Equal(t, map[store.JobState]int{store.JobStateMissed: 1}, counts)

		// Copies.
		cp := &store.Copy{JobID: j.ID, Name: "nas", Role: store.CopyRolePrimary, MediaType: store.MediaNAS, Status: store.CopyStatusUnknown}
		require.NoError(t, c.Copies().Create(ctx, cp))
		copies, err := c.Copies().ListByJob(ctx, j.ID)
		require.NoError(t, err)
		require.Len(t, copies, 1)
		cp.Status = store.CopyStatusOK
		require.NoError(t, c.Copies().Update(ctx, cp))
		copies, err = c.Copies().ListByJob(ctx, j.ID)
		require.NoError(t, err)
		require.Equal(t, store.CopyStatusOK, copies[0].Status)

		// Executions, and the dashboard counting them.
		start := time.Date(2026, 11, 30, 2, 0, 0, 0, time.UTC)
		execs := func() []store.Execution {
			t.Helper()
			p, err := c.Executions().List(ctx, store.ListExecutionsParams{JobID: j.ID})
			require.NoError(t, err)
			return p.Items
		}
		require.Empty(t, execs())
		require.Empty(t, dashboard().Executions)
		e := &store.Execution{JobID: j.ID, RunID: "r1", Status: store.ExecutionRunning, StartedAt: start, Source: store.SourceAPI}
		_, err = c.Executions().Insert(ctx, e)
		require.NoError(t, err)
		require.Len(t, execs(), 1)
		require.Equal(t, map[store.ExecutionStatus]int64{store.ExecutionRunning: 1}, dashboard().Executions)
		fin := start.Add(time.Minute)
		e.Status, e.FinishedAt = store.ExecutionSuccess, &fin
		require.NoError(t, c.Executions().Finish(ctx, e))
		require.Equal(t, store.ExecutionSuccess, execs()[0].Status)

		// Compliance, through the transaction-only capability.
		state := func() *store.ComplianceState {
			t.Helper()
			s, err := c.Compliance().GetState(ctx, store.SubjectJob, j.ID)
			require.NoError(t, err)
			return s
		}
		put := func(st store.ComplianceStatus) {
			t.Helper()
			require.NoError(t, c.InTx(ctx, func(ctx context.Context, tx store.Repos) error {
				return tx.(store.ComplianceRecheckWriter).PutStateRecheck(ctx, &store.ComplianceState{
					SubjectType: store.SubjectJob, SubjectID: j.ID, Status: st, EvaluatedAt: start, ChangedAt: start,
				}, start.Add(time.Hour))
			}))
		}
		put(store.ComplianceWarning)
		require.Equal(t, store.ComplianceWarning, state().Status)
		require.Equal(t, map[store.ComplianceStatus]int{store.ComplianceWarning: 1}, dashboard().JobCompliance)
		put(store.ComplianceCompliant)
		require.Equal(t, store.ComplianceCompliant, state().Status)
		require.Equal(t, map[store.ComplianceStatus]int{store.ComplianceCompliant: 1}, dashboard().JobCompliance)

		// An alert, which is not cached, still changes the dashboard.
		require.Empty(t, dashboard().Alerts)
		require.NoError(t, c.Alerts().Create(ctx, &store.Alert{
			Type: store.AlertBackupMissed, Severity: store.SeverityError, JobID: &j.ID, DedupeKey: "missed:" + j.ID,
			Title: "missed", State: store.AlertOpen, Occurrences: 1, FirstSeenAt: start, LastSeenAt: start,
		}))
		require.Equal(t, 1, dashboard().Alerts[store.AlertOpen][store.SeverityError])

		// A delete cascades: the job's copies and executions go with it.
		require.NoError(t, c.Jobs().Delete(ctx, j.ID))
		_, err = c.Jobs().Get(ctx, j.ID)
		require.ErrorIs(t, err, store.ErrNotFound)
		copies, err = c.Copies().ListByJob(ctx, j.ID)
		require.NoError(t, err)
		require.Empty(t, copies)
		require.Empty(t, execs())
		require.Empty(t, listJobs())
	})
}

func TestCopiesOut(t *testing.T) {
	t.Parallel()
	forEachDialect(t, func(t *testing.T, b *dbBundle) {
		ctx, c := b.ctx, b.c
		j := newJob(t, c)
		first, err := c.Jobs().Get(ctx, j.ID)
		require.NoError(t, err)
		want := *first
		want.Tags = []string{"prod", "db"}
		first.Tags[0], first.Name = "mutated", "mutated"
		first.NextDueAt = &time.Time{}
		second, err := c.Jobs().Get(ctx, j.ID)
		require.NoError(t, err)
		require.Equal(t, want.Tags, second.Tags)
		require.Equal(t, want.Name, second.Name)

		page, err := c.Jobs().List(ctx, store.ListJobsParams{})
		require.NoError(t, err)
		page.Items[0].Tags[1] = "mutated"
		page.Items = nil
		page, err = c.Jobs().List(ctx, store.ListJobsParams{})
		require.NoError(t, err)
		require.Equal(t, []string{"prod", "db"}, page.Items[0].Tags)

		counter := c.(store.DashboardCounter)
		d, err := counter.DashboardCounts(ctx, dashParams)
		require.NoError(t, err)
		d.Jobs[store.JobStateNew] = 99
		d, err = counter.DashboardCounts(ctx, dashParams)
		require.NoError(t, err)
		require.Equal(t, 1, d.Jobs[store.JobStateNew])
	})
}

func TestVersionChangesWithEveryWrite(t *testing.T) {
	t.Parallel()
	forEachDialect(t, func(t *testing.T, b *dbBundle) {
		ctx, c := b.ctx, b.c
		v0 := c.Version()
		j := newJob(t, c)
		v1 := c.Version()
		require.NotEqual(t, v0, v1, "a create")
		_, err := c.Jobs().List(ctx, store.ListJobsParams{})
		require.NoError(t, err)
		require.Equal(t, v1, c.Version(), "a read changes nothing")
		// A write the cache does not see (another replica) leaves it.
		j.Description = "elsewhere"
		require.NoError(t, b.bs.Jobs().Update(ctx, j))
		require.Equal(t, v1, c.Version())
		require.NoError(t, c.InTx(ctx, func(ctx context.Context, tx store.Repos) error {
			return tx.Jobs().Update(ctx, j)
		}))
		v2 := c.Version()
		require.NotEqual(t, v1, v2, "a committed transaction")
		// A refused write changes nothing.
		require.Error(t, c.Jobs().Create(ctx, &store.Job{}))
		require.Equal(t, v2, c.Version())
	})
}
