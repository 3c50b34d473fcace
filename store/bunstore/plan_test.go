package bunstore_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/uptrace/bun"

	"github.com/custos-dev/custos/store"
	"github.com/custos-dev/custos/store/bunstore"
	"github.com/custos-dev/custos/store/bunstore/bunstoretest"
	"github.com/custos-dev/custos/store/bunstore/dbopen"
)

// captureHook records the SQL of the statements run under a context key.
type captureHook struct {
	mu      sync.Mutex
	queries []string
}

func (h *captureHook) BeforeQuery(ctx context.Context, _ *bun.QueryEvent) context.Context {
	return ctx
}

func (h *captureHook) AfterQuery(ctx context.Context, e *bun.QueryEvent) {
	if ctx.Value(captureKey{}) == nil {
		return
	}
	h.mu.Lock()
	h.queries = append(h.queries, e.Query)
	h.mu.Unlock()
}

type captureKey struct{}

// seedExecutions stores n executions spread over jobs new jobs, returning
// the jobs.
func seedExecutions(tb testing.TB, s store.Store, jobs, n int) []*store.Job {
	tb.Helper()
	ctx := context.Background()
	out := make([]*store.Job, jobs)
	for i := range out {
		j := &store.Job{
			Name: fmt.Sprintf("seed job %d", i), JobType: store.JobTypeFile, Tool: store.ToolRestic,
			Schedule: store.Schedule{Kind: store.ScheduleInterval, Interval: time.Hour},
			Active:   true, PingToken: fmt.Sprintf("seed-token-%d-%s", i, store.NewID()), State: store.JobStateUp,
		}
		require.NoError(tb, s.Jobs().Create(ctx, j))
		out[i] = j
	}
	base := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	const chunk = 1000
	batch := make([]*store.Execution, 0, chunk)
	for i := range n {
		start := base.Add(time.Duration(i/jobs) * time.Hour)
		fin := start.Add(10 * time.Minute)
		batch = append(batch, &store.Execution{
			JobID: out[i%jobs].ID, RunID: fmt.Sprintf("r%d", i), Status: store.ExecutionSuccess,
			StartedAt: start, FinishedAt: &fin, SizeBytes: int64(i), Source: store.SourceAPI,
		})
		if len(batch) == chunk || i == n-1 {
			_, err := s.Executions().InsertBatch(ctx, batch)
			require.NoError(tb, err)
			batch = batch[:0]
		}
	}
	return out
}

// explain returns the plan of query as one lower-case string.
func explain(t *testing.T, s *bunstore.Store, kind dbopen.Kind, query string) string {
	t.Helper()
	ctx := context.Background()
	prefix := map[dbopen.Kind]string{dbopen.SQLite: "EXPLAIN QUERY PLAN ", dbopen.Postgres: "EXPLAIN ", dbopen.MySQL: "EXPLAIN "}[kind]
	rows, err := s.DB().QueryContext(ctx, prefix+query)
	require.NoError(t, err)
	defer rows.Close()
	cols, err := rows.Columns()
	require.NoError(t, err)
	var b strings.Builder
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		require.NoError(t, rows.Scan(ptrs...))
		for i, v := range vals {
			if bs, ok := v.([]byte); ok {
				v = string(bs)
			}
			fmt.Fprintf(&b, "%s=%v ", cols[i], v)
		}
		b.WriteString("\n")
	}
	require.NoError(t, rows.Err())
	return strings.ToLower(b.String())
}

func TestListNewestExecutionsOfAJobUsesTheIndex(t *testing.T) {
	t.Parallel()
	for _, kind := range bunstoretest.Dialects {
		t.Run(string(kind), func(t *testing.T) {
			t.Parallel()
			s := bunstoretest.New(t, kind, nil)
			ctx := context.Background()
			jobs := seedExecutions(t, s, 20, 20000)
			switch kind {
			case dbopen.Postgres:
				_, err := s.DB().ExecContext(ctx, "ANALYZE executions")
				require.NoError(t, err)
			case dbopen.MySQL:
				_, err := s.DB().ExecContext(ctx, "ANALYZE TABLE executions")
				require.NoError(t, err)
			case dbopen.SQLite:
				_, err := s.DB().ExecContext(ctx, "ANALYZE")
				require.NoError(t, err)
			}
			h := &captureHook{}
			hs := s.WithQueryHook(h)
			cctx := context.WithValue(ctx, captureKey{}, true)
			page, err := hs.Executions().List(cctx, store.ListExecutionsParams{JobID: jobs[3].ID, PageParams: store.PageParams{Limit: 50}})
			require.NoError(t, err)
			require.Len(t, page.Items, 50)
			page2, err := hs.Executions().List(cctx, store.ListExecutionsParams{JobID: jobs[3].ID, PageParams: store.PageParams{Limit: 50, Cursor: page.NextCursor}})
			require.NoError(t, err)
			require.Len(t, page2.Items, 50)
			require.Len(t, h.queries, 2)

			for i, q := range h.queries {
				plan := explain(t, s, kind, q)
				t.Logf("%s plan:\n%s", kind, plan)
				require.Contains(t, plan, "ix_executions__job_id_started_at", "the list must walk the (job_id, started_at, id) index")
				switch kind {
				case dbopen.SQLite:
					require.NotContains(t, plan, "temp b-tree", "no sort: the index gives the order")
				case dbopen.Postgres:
					require.NotContains(t, plan, "sort", "no sort: the index gives the order")
					require.NotContains(t, plan, "seq scan")
				case dbopen.MySQL:
					require.NotContains(t, plan, "filesort", "no sort: the index gives the order")
				}
				if i == 1 {
					// The next page starts at the cursor inside the index
					// instead of reading past the rows of earlier pages.
					switch kind {
					case dbopen.SQLite:
						require.Contains(t, plan, "started_at<?")
					case dbopen.Postgres:
						require.Regexp(t, `index cond: .*started_at`, plan)
						require.NotContains(t, plan, "filter:")
					case dbopen.MySQL:
						require.Contains(t, plan, "type=range")
					}
				}
			}
		})
	}
}
