package cache_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/custos-dev/custos/cache"
	"github.com/custos-dev/custos/store"
	"github.com/custos-dev/custos/store/bunstore"
	"github.com/custos-dev/custos/store/bunstore/dbopen"
)

// Put a cache in front of a store: the second read is served from memory,
// and a write through the cache is read back at once.
func Example() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "custos-cache-example")
	defer os.RemoveAll(dir)
	bs, err := dbopen.OpenStore(ctx, "sqlite:"+filepath.Join(dir, "custos.db"), nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	if _, err := bunstore.Migrate(ctx, bs.DB()); err != nil {
		fmt.Println(err)
		return
	}
	s := cache.New(bs)
	defer s.Close() // closes bs too

	job := &store.Job{
		Name: "ERP database", JobType: store.JobTypeDatabase, Tool: store.ToolPgDump,
		Schedule: store.Schedule{Kind: store.ScheduleManual}, Active: true,
		PingToken: "b1946ac92492d2347c6235b4d2611184", State: store.JobStateNew,
	}
	if err := s.Jobs().Create(ctx, job); err != nil {
		fmt.Println(err)
		return
	}
	for range 2 {
		if _, err := s.Jobs().Get(ctx, job.ID); err != nil {
			fmt.Println(err)
			return
		}
	}
	job.Description = "nightly dump"
	if err := s.Jobs().Update(ctx, job); err != nil {
		fmt.Println(err)
		return
	}
	got, _ := s.Jobs().Get(ctx, job.ID)
	fmt.Println("description:", got.Description)
	st := s.Stats()[0]
	fmt.Printf("%s: %d hits, %d misses\n", st.Name, st.Hits, st.Misses)
	// Output:
	// description: nightly dump
	// jobs: 1 hits, 2 misses
}
