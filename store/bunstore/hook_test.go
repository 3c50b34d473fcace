package bunstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/custos-dev/custos/store"
	"github.com/custos-dev/custos/store/bunstore"
	"github.com/custos-dev/custos/store/bunstore/bunstoretest"
)

func TestQueryCounterCountsStatementsPerOperation(t *testing.T) {
	t.Parallel()
	for _, kind := range bunstoretest.Dialects {
		t.Run(string(kind), func(t *testing.T) {
			t.Parallel()
			s := bunstoretest.New(t, kind, nil)
			ctx := context.Background()
			qc := &bunstore.QueryCounter{}
			s = s.WithQueryHook(qc)

			j := &store.Job{
				Name: "counted", JobType: store.JobTypeFile, Tool: store.ToolBorg,
				Schedule: store.Schedule{Kind: store.ScheduleManual}, Active: true,
				PingToken: "counted-token", State: store.JobStateNew,
			}
			require.NoError(t, s.Jobs().Create(ctx, j))
			require.Equal(t, int64(1), qc.Count())
			require.Equal(t, int64(1), qc.CountOf("INSERT"))

			qc.Reset()
			_, err := s.Jobs().Get(ctx, j.ID)
			require.NoError(t, err)
			_, err = s.Jobs().List(ctx, store.ListJobsParams{PageParams: store.PageParams{Limit: 200}})
			require.NoError(t, err)
			require.Equal(t, int64(2), qc.Count())
			require.Equal(t, int64(2), qc.CountOf("SELECT"))

			// A transaction's BEGIN and COMMIT are not statements of the budget.
			qc.Reset()
			err = s.InTx(ctx, func(ctx context.Context, tx store.Repos) error {
				fin := time.Date(2026, 11, 1, 1, 0, 0, 0, time.UTC)
				e := &store.Execution{JobID: j.ID, RunID: "r1", Status: store.ExecutionSuccess,
					StartedAt: fin.Add(-time.Minute), FinishedAt: &fin, Source: store.SourceAPI}
				if _, err := tx.Executions().Insert(ctx, e); err != nil {
					return err
				}
				j.State = store.JobStateUp
				return tx.Jobs().Update(ctx, j)
			})
			require.NoError(t, err)
			require.Equal(t, int64(2), qc.Count())
			require.Equal(t, int64(1), qc.CountOf("UPDATE"))

			// A context counter isolates one operation from the rest.
			qc.Reset()
			cctx, n := bunstore.WithQueryCount(ctx)
			_, err = s.Executions().List(cctx, store.ListExecutionsParams{JobID: j.ID})
			require.NoError(t, err)
			_, err = s.Jobs().Get(ctx, j.ID)
			require.NoError(t, err)
			require.Equal(t, int64(1), n.Load())
			require.Equal(t, int64(2), qc.Count())
		})
	}
}
