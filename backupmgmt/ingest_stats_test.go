package backupmgmt

import (
	"context"
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/custos-dev/custos/store"
	"github.com/custos-dev/custos/store/bunstore/dbopen"
)

// Two services over one store are two replicas: each caches the anomaly
// window, and each must see the other's runs.
func TestRecordAnomalyWindowSeesAnotherReplicasRuns(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, kind dbopen.Kind) {
		b := setup(t, kind, nil)
		other, err := New(b.store, &Config{Now: b.clock.Now})
		require.NoError(t, err)
		job := b.jobFixture(t, "replicated", nil)
		ctx := t.Context()
		record := func(svc *Service, i int, size int64) {
			t.Helper()
			b.clock.Advance(time.Minute)
			p := b.ingestRun(job, "run-"+strconv.Itoa(i), store.ExecutionSuccess, 30*time.Second, 10*time.Second)
			p.SizeBytes = size
			_, err := svc.Executions().Record(ctx, p)
			require.NoError(t, err)
		}
		// This replica learns a history of large runs.
		for i := range AnomalyWindowDefault {
			record(b.svc, i, 1<<30)
		}
		// The other one records ten small runs: its first ones are
		// anomalous, its last ones, whose window holds small runs, normal.
		for i := range AnomalyWindowDefault {
			record(other, 100+i, 1<<10)
		}
		require.Nil(t, b.ingestAlert(t, store.AlertBackupAnomaly, job.ID))
		// A cached window of large runs would find this small run anomalous.
		record(b.svc, 200, 1<<10)
		require.Nil(t, b.ingestAlert(t, store.AlertBackupAnomaly, job.ID), "the window holds the other replica's runs")
		// And a large run now is normal in size, being above the median.
		record(b.svc, 201, 1<<30)
		require.Nil(t, b.ingestAlert(t, store.AlertBackupAnomaly, job.ID))
		// An anomaly the other replica raises is resolved by a normal run
		// here, although this replica last saw none open.
		record(other, 202, 1)
		require.NotNil(t, b.ingestAlert(t, store.AlertBackupAnomaly, job.ID))
		record(b.svc, 203, 1<<10)
		require.Nil(t, b.ingestAlert(t, store.AlertBackupAnomaly, job.ID), "resolved by a normal run")
	})
}

// A batch item that fails in its savepoint leaves no trace in the cache:
// the window of the next run is what the database holds.
func TestRecordBatchFailedItemLeavesTheAnomalyWindowAlone(t *testing.T) {
	t.Parallel()
	b := setup(t, dbopen.SQLite, nil)
	job := b.jobFixture(t, "batched", nil)
	ctx := t.Context()
	for i := range AnomalyWindowDefault {
		b.clock.Advance(time.Minute)
		p := b.ingestRun(job, "run-"+strconv.Itoa(i), store.ExecutionSuccess, 30*time.Second, 10*time.Second)
		b.ingestRecordOK(t, ctx, p)
	}
	b.clock.Advance(time.Minute)
	bad := b.ingestRun(job, "bad", store.ExecutionSuccess, 30*time.Second, 10*time.Second)
	bad.CopyID = ingestPtr("no-such-copy")
	res, err := b.svc.Executions().RecordBatch(ctx, []RecordParams{bad})
	require.NoError(t, err)
	var ve *store.ValidationError
	require.True(t, errors.As(res[0].Err, &ve))
	entry, ok := b.svc.stats.get(b.ingestJobRow(t, job.ID), b.svc.Now())
	require.True(t, ok)
	require.Len(t, entry.stats, AnomalyWindowDefault)
	for _, st := range entry.stats {
		require.NotEqual(t, bad.StartedAt, st.startedAt)
	}
}

func TestAfterCommitRunsOnlyOnCommit(t *testing.T) {
	t.Parallel()
	b := setup(t, dbopen.SQLite, nil)
	ran := 0
	boom := errors.New("boom")
	err := b.svc.inTx(t.Context(), func(ctx context.Context, tx store.Repos) error {
		afterCommit(ctx, func() { ran++ })
		return boom
	})
	require.ErrorIs(t, err, boom)
	require.Zero(t, ran, "a rolled-back transaction runs nothing")
	err = b.svc.inTx(t.Context(), func(ctx context.Context, tx store.Repos) error {
		afterCommit(ctx, func() { ran++ })
		mark := afterCommitMark(ctx)
		afterCommit(ctx, func() { ran += 100 })
		afterCommitUndo(ctx, mark)
		return nil
	})
	require.NoError(t, err)
	require.Equal(t, 1, ran, "a committed transaction runs what was not undone, once")
}

// Runs of one job in one batch each see the ones before them, which reach
// the cache only at the commit.
func TestRecordBatchAnomalyWindowHoldsEarlierItems(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, kind dbopen.Kind) {
		b := setup(t, kind, nil)
		job := b.jobFixture(t, "batched", nil)
		ctx := t.Context()
		b.clock.Advance(time.Hour)
		var items []RecordParams
		for i := range AnomalyWindowDefault + 2 {
			p := b.ingestRun(job, "run-"+strconv.Itoa(i), store.ExecutionSuccess, time.Hour-time.Duration(i)*time.Minute, 10*time.Second)
			p.SizeBytes = 1 << 30
			if i == 3 {
				p.CopyID = ingestPtr("no-such-copy") // fails, in its savepoint
			}
			if i == AnomalyWindowDefault+1 {
				p.SizeBytes = 1 << 10
			}
			items = append(items, p)
		}
		res, err := b.svc.Executions().RecordBatch(ctx, items)
		require.NoError(t, err)
		for i, r := range res {
			if i == 3 {
				require.Error(t, r.Err)
				continue
			}
			require.NoError(t, r.Err)
			require.True(t, r.Created)
		}
		a := b.ingestAlert(t, store.AlertBackupAnomaly, job.ID)
		require.NotNil(t, a, "the last, small run is anomalous against the batch's earlier ones")
		require.Contains(t, a.Message, "over the last 10 successes")
		// After the commit the cache holds the batch's runs.
		entry, ok := b.svc.stats.get(b.ingestJobRow(t, job.ID), b.svc.Now())
		require.True(t, ok)
		require.Len(t, entry.stats, AnomalyWindowDefault)
		require.Equal(t, items[len(items)-1].StartedAt, entry.stats[0].startedAt)
		require.False(t, entry.noAnomaly)
	})
}
