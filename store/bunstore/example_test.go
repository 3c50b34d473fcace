package bunstore_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/custos-dev/custos/store"
	"github.com/custos-dev/custos/store/bunstore"
	"github.com/custos-dev/custos/store/bunstore/dbopen"
)

// Open an embedded SQLite store, migrate it, and record a backup run twice:
// the second record of the same run ID is recognised, not duplicated.
func Example() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "custos-example")
	defer os.RemoveAll(dir)

	s, err := dbopen.OpenStore(ctx, "sqlite:"+filepath.Join(dir, "custos.db"), nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer s.Close()
	if _, err := bunstore.Migrate(ctx, s.DB()); err != nil {
		fmt.Println(err)
		return
	}

	job := &store.Job{
		Name: "ERP database", JobType: store.JobTypeDatabase, Tool: store.ToolPgDump,
		Schedule: store.Schedule{Kind: store.ScheduleCron, Cron: "0 2 * * *", Timezone: "Asia/Tokyo"},
		Active:   true, PingToken: "b1946ac92492d2347c6235b4d2611184", State: store.JobStateNew,
	}
	if err := s.Jobs().Create(ctx, job); err != nil {
		fmt.Println(err)
		return
	}
	err = s.Jobs().Create(ctx, &store.Job{Name: "erp DATABASE", JobType: store.JobTypeFile, Tool: store.ToolBorg,
		Schedule: store.Schedule{Kind: store.ScheduleManual}, PingToken: "other", State: store.JobStateNew})
	fmt.Println("same name in other case:", errors.Is(err, store.ErrConflict))

	start := time.Date(2026, 11, 30, 2, 0, 0, 0, time.UTC)
	end := start.Add(12 * time.Minute)
	for range 2 {
		e := &store.Execution{
			JobID: job.ID, RunID: "2026-11-30T02:00", Status: store.ExecutionSuccess,
			StartedAt: start, FinishedAt: &end, SizeBytes: 3 << 30, Source: store.SourceAPI,
		}
		created, err := s.Executions().Insert(ctx, e)
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println("created:", created, "took:", e.Duration())
	}
	page, _ := s.Executions().List(ctx, store.ListExecutionsParams{JobID: job.ID})
	fmt.Println("executions:", len(page.Items))
	// Output:
	// same name in other case: true
	// created: true took: 12m0s
	// created: false took: 12m0s
	// executions: 1
}
