package backupmgmt_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"time"

	"github.com/custos-dev/custos/backupmgmt"
	"github.com/custos-dev/custos/store"
	"github.com/custos-dev/custos/store/bunstore"
	"github.com/custos-dev/custos/store/bunstore/dbopen"
)

// The periodic work of a deployment: the compliance sweep notices copies
// aging past their freshness window, the rollup tick folds the day, and
// the dashboard reads it all back.
func ExampleCompliance_Sweep() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "custos-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	now := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	s, err := dbopen.OpenStore(ctx, "sqlite:"+filepath.Join(dir, "custos.db"), &bunstore.Config{Now: clock})
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()
	if _, err := bunstore.Migrate(ctx, s.DB()); err != nil {
		log.Fatal(err)
	}
	svc, err := backupmgmt.New(s, &backupmgmt.Config{Now: clock})
	if err != nil {
		log.Fatal(err)
	}

	// A nightly job with a 26-hour RPO, a disk copy and an immutable
	// offsite copy written an hour ago, and a restore test yesterday.
	job := &store.Job{
		Name: "erp-db", JobType: store.JobTypeDatabase, Tool: store.ToolPgDump,
		Schedule: store.Schedule{Kind: store.ScheduleCron, Cron: "0 2 * * *"}, RPOTarget: 26 * time.Hour,
		Active: true, PingToken: "example-token", State: store.JobStateUp,
	}
	sweepExampleMust(s.Jobs().Create(ctx, job))
	written := now.Add(-time.Hour)
	sweepExampleMust(s.Copies().Create(ctx, &store.Copy{
		JobID: job.ID, Name: "nas", Role: store.CopyRolePrimary, MediaType: store.MediaNAS,
		Encrypted: true, LastWrittenAt: &written, Status: store.CopyStatusOK,
	}))
	sweepExampleMust(s.Copies().Create(ctx, &store.Copy{
		JobID: job.ID, Name: "s3", Role: store.CopyRoleOffsite, MediaType: store.MediaCloudObject,
		Offsite: true, Immutable: true, Encrypted: true, LastWrittenAt: &written, Status: store.CopyStatusOK,
	}))
	sweepExampleMust(s.VerificationTests().Create(ctx, &store.VerificationTest{
		JobID: job.ID, TestType: store.TestFullRestore, Result: store.TestSuccess, TestedAt: now.Add(-24 * time.Hour),
	}))

	res, err := svc.Compliance().Sweep(ctx)
	sweepExampleMust(err)
	fmt.Printf("first sweep: %d job, %d changed\n", res.Jobs, res.Changed)

	// Two days without a backup: both copies are older than the RPO.
	now = now.Add(2 * 24 * time.Hour)
	res, err = svc.Compliance().Sweep(ctx)
	sweepExampleMust(err)
	st, err := svc.Compliance().State(ctx, store.SubjectJob, job.ID)
	sweepExampleMust(err)
	fmt.Printf("two days later: %d changed, %s, score %d\n", res.Changed, st.Status, st.Score)
	for _, r := range st.Reasons {
		fmt.Printf("  %s %s: %s\n", r.Rule, r.Severity, r.Message)
	}

	sweepExampleMust(svc.Rollups().Tick(ctx))
	sum, err := svc.Dashboard().Summary(ctx)
	sweepExampleMust(err)
	fmt.Printf("dashboard: %d job, %d non-compliant, %d open error alert, %d trend days\n",
		sum.JobsTotal, sum.Compliance.Jobs[store.ComplianceNonCompliant], sum.Alerts[store.SeverityError], len(sum.Trend))
	// Output:
	// first sweep: 1 job, 1 changed
	// two days later: 1 changed, non_compliant, score 15
	//   3copies error: 0 fresh backup copies, policy requires 2
	//   3copies warning: copy `nas` last written 49 hours ago, limit 26
	//   3copies warning: copy `s3` last written 49 hours ago, limit 26
	//   2media error: 0 media types among fresh copies, policy requires 2
	//   1offsite error: no fresh offsite copy
	//   1offline error: no fresh offline or immutable copy
	// dashboard: 1 job, 1 non-compliant, 1 open error alert, 7 trend days
}

func sweepExampleMust(err error) {
	if err != nil {
		log.Fatal(err)
	}
}
