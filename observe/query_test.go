package observe_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/uptrace/bun"

	"github.com/custos-dev/custos/observe"
	"github.com/custos-dev/custos/store"
	"github.com/custos-dev/custos/store/bunstore/bunstoretest"
	"github.com/custos-dev/custos/store/bunstore/dbopen"
)

func TestQueryHook(t *testing.T) {
	t.Parallel()

	t.Run("LabelsRawStatementsByKindAndTable", func(t *testing.T) {
		t.Parallel()
		for _, tt := range []struct{ query, want string }{
			{`SELECT "j"."id", "j"."name" FROM "jobs" AS "j" WHERE (id = 'from x')`, "select jobs"},
			{"select id from executions where job_id = ?", "select executions"},
			{"INSERT INTO `executions` (`id`) VALUES (?)", "insert executions"},
			{`UPDATE jobs SET state = ?, updated_at = ? WHERE id = ?`, "update jobs"},
			{`DELETE FROM public.sessions WHERE expires_at < ?`, "delete sessions"},
			{`SELECT count(*) FROM (SELECT 1 FROM alerts) AS t`, "select alerts"},
			{`INSERT INTO jobs (id) VALUES (?) ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name`, "insert jobs"},
			{`WITH due AS (SELECT id FROM jobs) UPDATE jobs SET state = 'late'`, "with jobs"},
			{"SELECT 1", "select"},
			{"BEGIN", "begin"},
			{"COMMIT", "commit"},
			{"ROLLBACK TO SAVEPOINT sp_01", "rollback"},
			{"SAVEPOINT sp_0192", "savepoint"},
			{"SELECT 'it''s' FROM [settings]", "select settings"},
			{"", "other"},
		} {
			b := setup(t, nil)
			hook := b.m.QueryHook()
			e := &bun.QueryEvent{Query: tt.query, QueryTemplate: tt.query, StartTime: time.Now()}
			hook.AfterQuery(hook.BeforeQuery(context.Background(), e), e)
			require.Equal(t, "custos_db_query_duration_seconds operation="+tt.want+"\n",
				b.gather(t, "custos_db_query_duration_seconds"), "query %q", tt.query)
		}
	})

	t.Run("BoundsTheOperations", func(t *testing.T) {
		t.Parallel()
		b := setup(t, nil)
		hook := b.m.QueryHook()
		for i := range observe.MaxOperations + 50 {
			e := &bun.QueryEvent{Query: fmt.Sprintf("SELECT * FROM t%d", i), StartTime: time.Now()}
			hook.AfterQuery(context.Background(), e)
		}
		got := b.gather(t, "custos_db_query_duration_seconds")
		require.Equal(t, observe.MaxOperations+1, strings.Count(got, "\n"))
		require.Contains(t, got, "operation=other\n")
		require.Equal(t, uint64(observe.MaxOperations+50), histogramCount(t, b.reg, "custos_db_query_duration_seconds"))
	})

	t.Run("LabelsBunstoreStatements", func(t *testing.T) {
		t.Parallel()
		b := setup(t, nil)
		s := bunstoretest.New(t, dbopen.SQLite, nil).WithQueryHook(b.m.QueryHook())
		ctx := context.Background()
		j := newJob("hooked")
		require.NoError(t, s.Jobs().Create(ctx, j))
		_, err := s.Jobs().Get(ctx, j.ID)
		require.NoError(t, err)
		require.NoError(t, s.InTx(ctx, func(ctx context.Context, tx store.Repos) error {
			_, err := tx.Executions().Insert(ctx, newExecution(j.ID, "r1", store.ExecutionSuccess, time.Now().Add(-time.Hour)))
			return err
		}))
		got := b.gather(t, "custos_db_query_duration_seconds")
		for _, op := range []string{"insert jobs", "select jobs", "begin", "commit", "insert executions"} {
			require.Contains(t, got, "operation="+op+"\n")
		}
		require.NotContains(t, got, "hooked", "no values in labels")
	})
}

// Not parallel: testing.AllocsPerRun refuses to run in a parallel test.
func TestQueryHookAllocations(t *testing.T) {
	b := setup(t, nil)
	hook := b.m.QueryHook()
	e := &bun.QueryEvent{
		Query:     `SELECT "j"."id", "j"."name" FROM "jobs" AS "j" WHERE ("j"."id" = '0192')`,
		StartTime: time.Now(),
	}
	hook.AfterQuery(context.Background(), e)
	allocs := testing.AllocsPerRun(100, func() { hook.AfterQuery(context.Background(), e) })
	require.Zero(t, allocs, "a statement of a kind already seen costs no allocation")
}
